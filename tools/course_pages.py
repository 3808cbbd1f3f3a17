"""Write the course's generated cells from the one table of lessons (``lessons/course``).

    python tools/course_pages.py            # rewrite, then review the diff
    python tools/course_pages.py --check    # exit 1 if anything would change (no writes)

It (1) puts a prev · course map · next line at the top (after the header) and at the bottom of
every lesson, (2) makes lesson 00's "Map of the course" a code cell that shows the map with the
learner's progress, and (3) writes the closing page ``lessons/where_next.ipynb``: every lesson's
learning objectives (copied from its header, so they cannot drift), the progress map, and where
to go next. Each notebook is read, changed and written in one go (other people edit the prose
cells of the same files); only the generated cells are touched.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LESSONS_DIR = REPO / "lessons"
sys.path.insert(0, str(LESSONS_DIR))

from course.catalog import CLOSING, LESSONS  # noqa: E402
from course.pages import NAV_MARK, navigation  # noqa: E402

MAP_HEADING = "## Map of the course"
MAP_TEXT = (f"{MAP_HEADING}\n\nEvery lesson, what you will be able to do after it, and which of "
            "its self-checks you have answered right (✓). Progress is kept on this computer "
            "across sessions; run the cell again to refresh it.")
MAP_CODE = 'course_map(here="00_start_here")'


def _source(cell) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _md(cell_id: str, text: str) -> dict:
    return {"cell_type": "markdown", "id": cell_id, "metadata": {},
            "source": text.splitlines(keepends=True)}


def _code(cell_id: str, text: str) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": cell_id, "metadata": {},
            "outputs": [], "source": text.splitlines(keepends=True)}


def _dump(nb: dict) -> str:
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def objectives(stem: str) -> list[str]:
    """The learning-objective bullets of a lesson's header cell, as written (one string each)."""
    nb = json.loads((LESSONS_DIR / f"{stem}.ipynb").read_text(encoding="utf-8"))
    header = _source(nb["cells"][0]).split("Learning objectives", 1)[1]
    bullets: list[str] = []
    for line in header.splitlines()[1:]:
        if re.match(r"\s*[-*]\s+\S", line):
            bullets.append(re.sub(r"^\s*[-*]\s+", "", line).strip())
        elif line.startswith((" ", "\t")) and line.strip() and bullets:
            bullets[-1] += " " + line.strip()
        elif line.strip() and bullets:
            break
    return bullets


def lesson_notebook(nb: dict, stem: str) -> dict:
    """``nb`` with its navigation cells (after the header, at the end) and, for 00, the map."""
    cells = [c for c in nb["cells"] if not (c["cell_type"] == "markdown"
                                           and _source(c).startswith(NAV_MARK))]
    nav = navigation(stem)
    cells = [cells[0], _md("cell-nav-top", nav), *cells[1:], _md("cell-nav-bottom", nav)]
    if stem == "00_start_here":
        at = next(i for i, c in enumerate(cells) if c["cell_type"] == "markdown"
                  and _source(c).startswith(MAP_HEADING))
        cells[at] = _md(cells[at].get("id", "cell-map"), MAP_TEXT)
        following = cells[at + 1]
        if not (following["cell_type"] == "code" and _source(following) == MAP_CODE):
            cells.insert(at + 1, _code("cell-course-map", MAP_CODE))
    return {**nb, "cells": cells}


VENUES = """\
- Aave, *Liquidations* (health factor, close factor, bonus): <https://aave.com/help/borrowing/liquidations>;
  developer guide <https://docs.aave.com/developers/guides/liquidations>; the v3.3 code and deficit
  accounting: [aave-dao/aave-v3-origin](https://github.com/aave-dao/aave-v3-origin).
- Mango Markets v4, *health overview* and token specs (asset and liability weights):
  [blockworks-foundation/mango-docs](https://github.com/blockworks-foundation/mango-docs).
- dYdX v4, margin, liquidations and contract-loss mechanisms:
  [dydxprotocol/v4-documentation](https://github.com/dydxprotocol/v4-documentation),
  <https://help.dydx.trade/en/articles/166973-contract-loss-mechanisms-on-dydx-chain>.
- Hyperliquid, liquidations and auto-deleveraging:
  <https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations>,
  <https://hyperliquid.gitbook.io/hyperliquid-docs/trading/auto-deleveraging>.
- Binance, *margin ratio* FAQ: <https://binance.com/en/support/faq/25edcd7fe0e544839d0847b8cbb2e400>;
  BitMEX, *What is Auto-Deleveraging*:
  <https://support.bitmex.com/hc/en-gb/articles/18589621443357-What-is-Auto-Deleveraging>."""

PAPERS = """\
- A. Warmuz, A. Chaudhary, D. Pinna, "Toxic Liquidation Spirals", arXiv:2212.07306 (2022),
  <https://arxiv.org/abs/2212.07306>.
- K. Qin, L. Zhou, P. Gamito, P. Jovanovic, A. Gervais, "An Empirical Study of DeFi Liquidations",
  IMC 2021, <https://arxiv.org/abs/2106.06389>.
- D. Perez, S. M. Werner, J. Xu, B. Livshits, "Liquidations: DeFi on a knife-edge", FC 2021,
  <https://arxiv.org/abs/2009.13235>.
- R. Cont, E. Schaanning, "Fire sales, indirect contagion and systemic stress testing", Norges Bank
  WP 2/2017, <https://ssrn.com/abstract=2541114>.
- F. Caccioli, M. Shrestha, C. Moore, J. D. Farmer, "Stability analysis of financial contagion due to
  overlapping portfolios", *Journal of Banking & Finance* 46 (2014), <https://arxiv.org/abs/1210.5987>.
- M. K. Brunnermeier, L. H. Pedersen, "Market liquidity and funding liquidity", *Review of Financial
  Studies* 22(6) (2009), <https://doi.org/10.1093/rfs/hhn098>.
- F. Longin, B. Solnik, "Extreme correlation of international equity markets", *Journal of Finance*
  56(2) (2001), <https://doi.org/10.1111/0022-1082.00340>.
- Risk practice: Gauntlet, "Market Risk Primer",
  <https://governance.aave.com/t/gauntlet-market-risk-primer/2097>; Chaos Labs, "Risk simulation
  platform proposal", <https://governance.aave.com/t/chaos-labs-risk-simulation-platform-proposal/9517>."""

TOOLS = """\
- **The apps** (the labs without code, for a classroom screen; `pip install -e ".[apps]"` first):
  [pooling](apps/pooling_app.ipynb), [correlation](apps/correlation_app.ipynb) and
  [cascade](apps/cascade_app.ipynb); run `voila lessons/apps/pooling_app.ipynb` from the
  repository's folder (`?theme=dark` for the dark theme).
- **The [glossary](glossary.md)** for every term, and the **[instructor guide](instructor_guide.md)**
  to run the course as a 90-minute or half-day workshop.
- **Build your own lab:** every widget is `from widgets import Name` and works with no arguments;
  the numpy engine `widgets.engine` (`margin_report`, `liquidate`, `cascade`, `fund_coverage`)
  runs without Jupyter. Re-do an exercise with your own venue's parameters
  (solutions in `lessons/solutions/`)."""


def closing_notebook(old: dict | None) -> dict:
    """The closing page: objectives by lesson, the progress map, where to go next."""
    learned = []
    for item in LESSONS:
        bullets = "\n".join(f"- {b}" for b in objectives(item.stem))
        learned.append(f"### [{item.label}]({item.file})\n\n{bullets}")
    nav = navigation(CLOSING.stem)
    cells = [
        _md("cell-00", "# Where next\n\nYou have worked through the nine lessons of Cross-Margin "
                       "Lab. This page lists what each lesson set out to teach, shows which of "
                       "your self-checks you answered right, and points to where you can go "
                       "from here: the venues' own documentation, the research papers behind "
                       "the models, and the apps."),
        _md("cell-nav-top", nav),
        _md("cell-01", "## Your progress\n\nRun the cell: ✓ marks a self-check you have "
                       "answered right at least once (kept on this computer). A lesson with "
                       "○ marks is worth a second visit."),
        _code("cell-02", 'from course import course_map\ncourse_map(here="where_next")'),
        _md("cell-03", "## What you learned, objective by objective\n\nEach lesson's learning "
                       "objectives, as its header states them. Can you do each one without "
                       "looking? If not, the lesson's link takes you back.\n\n"
                       + "\n\n".join(learned)),
        _md("cell-04", "## Where to go next\n\n### The venues' own rules\n\nThe engine "
                       "follows these documents; read them to see what a real venue adds "
                       "(oracles, tiers, fees, auctions).\n\n" + VENUES),
        _md("cell-05", "### Papers\n\n" + PAPERS),
        _md("cell-06", "### The apps and the toolkit\n\n" + TOOLS),
        _md("cell-nav-bottom", nav),
    ]
    metadata = (old or {}).get("metadata") or json.loads(
        (LESSONS_DIR / f"{LESSONS[0].stem}.ipynb").read_text(encoding="utf-8"))["metadata"]
    return {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}


def plan():
    """Yield every file this tool writes with the text it would write, one file at a time (each
    read just before it is yielded, so a write right after leaves no window for stale text)."""
    for item in LESSONS:
        path = LESSONS_DIR / item.file
        nb = json.loads(path.read_text(encoding="utf-8"))
        yield path, _dump(lesson_notebook(nb, item.stem))
    path = LESSONS_DIR / CLOSING.file
    old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
    yield path, _dump(closing_notebook(old))


def main(argv: list[str]) -> int:
    check = "--check" in argv
    stale = []
    for path, text in plan():
        current = path.read_text(encoding="utf-8") if path.exists() else ""
        if current != text:
            stale.append(path.relative_to(REPO))
            if not check:
                path.write_text(text, encoding="utf-8")      # re-read just above: no stale copy
    verb = "out of date" if check else "written"
    print("\n".join(f"{verb}: {p}" for p in stale) or "all course pages up to date")
    return 1 if (check and stale) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
