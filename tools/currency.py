"""The course's currency convention in markdown: the unit after the amount, never a ``$``.

JupyterLab, Voilà and GitHub's preview all hand ``$...$`` to a maths renderer (MathJax or
GitHub's), and each treats an escaped ``\\$`` differently, so "$5,000 ... $3,000" turns into
garbled maths somewhere whatever the escaping. The convention that renders the same everywhere:

* money is written with its unit after the amount: ``1,375 USD``, ``25M USD``, ``2.1 B USD``;
  ``USDC`` / ``USDT`` where the lesson means the token;
* ``$...$`` and ``$$...$$`` are maths only (TeX that MathJax renders);
* code spans and fenced code are left alone (Python f-strings may print ``$``).

Two uses:

``python tools/currency.py --check lessons/*.ipynb lessons/*.md``
    lists every ``$`` that is not maths (exit status 1 if any); :func:`problems` is what
    ``tests/test_notebook_hygiene.py`` runs.
``python tools/currency.py --fix lessons/*.ipynb lessons/*.md``
    rewrites escaped currency (``\\$5,000``, ``\\\\$5,000``, ``-\\$700``, ``\\$25M``) as
    ``5,000 USD`` in markdown cells / files; it never touches code cells. Dollars it cannot
    classify (a ``$`` that opens maths whose content reads like prose) are listed, not changed.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

# code fences and code spans: never rewritten, never checked
_CODE = re.compile(r"(```.*?```|``[^`]*?``|`[^`\n]*`)", re.S)
# escaped currency: one or two backslashes, a sign outside, an amount, a range, a magnitude
_ESCAPED = re.compile(
    r"(?P<sign>[−-]?)\\{1,2}\$(?P<num>…|\d(?:[\d,]*\d)?(?:\.\d+)?(?:\s?[–-]\s?\d(?:[\d,]*\d)?(?:\.\d+)?)?)"
    r"(?P<mag>\s?(?:million|billion|trillion|bn|[MBk])\b|…?[MBk]\b)?")
# maths: $$...$$ (may span lines) or $...$ on one line, with no escaped dollar inside
_MATH = re.compile(r"\$\$(?P<display>.+?)\$\$|(?<![\\$])\$(?P<inline>[^$\n]+?)(?<!\\)\$", re.S)
# TeX that names a word on purpose: \text{...}, \mathrm{...}, \operatorname{...}
_TEX_WORDS = re.compile(r"\\(?:text|mathrm|operatorname|textrm|mbox)\{[^}]*\}")
_COMMANDS = re.compile(r"\\[A-Za-z]+")


def _split_code(text: str) -> list[tuple[bool, str]]:
    """(is_code, piece) in order."""
    return [(i % 2 == 1, p) for i, p in enumerate(_CODE.split(text))]


def _fix_plain(text: str) -> str:
    def amount(m: re.Match) -> str:
        num = m["num"].replace(" ", "")
        mag = (m["mag"] or "")
        return f"{m['sign']}{num}{mag} USD"

    out = _ESCAPED.sub(amount, text)
    # "30,000 USD of USDC" says the unit twice: the token is the unit
    return re.sub(r"(\d[\d,.]*(?:\s?(?:million|billion|[MBk]))?) USD of (USDC|USDT)\b",
                  r"\1 \2", out)


def fix(text: str) -> str:
    """Rewrite escaped currency outside code and outside maths as ``<amount> USD``."""
    pieces = []
    for is_code, piece in _split_code(text):
        if is_code:
            pieces.append(piece)
            continue
        last, parts = 0, []
        for m in _MATH.finditer(piece):
            parts.append(_fix_plain(piece[last:m.start()]))
            parts.append(m.group(0))
            last = m.end()
        parts.append(_fix_plain(piece[last:]))
        pieces.append("".join(parts))
    return "".join(pieces)


def _prose_in_maths(tex: str) -> str | None:
    """A word of 3+ letters that is not a TeX command or \\text{...}: the maths swallowed prose
    (the sign of a currency ``$`` taken as a delimiter)."""
    bare = _COMMANDS.sub(" ", _TEX_WORDS.sub(" ", tex))
    m = re.search(r"(?<![A-Za-z_^])[A-Za-z]{3,}(?![A-Za-z])", bare)
    return m.group(0) if m else None


def problems(text: str) -> list[str]:
    """Every dollar in ``text`` (markdown) that breaks the convention, with some context."""
    found = []
    plain = "".join(" " * len(p) if is_code else p for is_code, p in _split_code(text))

    def where(i: int) -> str:
        return plain[max(i - 25, 0):i + 25].replace("\n", " ")

    masked = list(plain)
    for m in _MATH.finditer(plain):
        tex = m["display"] if m["display"] is not None else m["inline"]
        word = _prose_in_maths(tex)
        if "\\$" in tex:
            found.append(f"escaped dollar inside maths: ...{where(m.start())}...")
        elif word and m["inline"] is not None:
            found.append(f"maths that reads like prose ({word!r}; a currency $ taken as a "
                         f"delimiter?): ...{where(m.start())}...")
        masked[m.start():m.end()] = " " * (m.end() - m.start())
    rest = "".join(masked)
    for m in re.finditer(r"\$", rest):
        kind = "escaped currency" if rest[max(m.start() - 1, 0)] == "\\" else "lone dollar"
        found.append(f"{kind} (write the unit after the amount, e.g. 1,375 USD): "
                     f"...{where(m.start())}...")
    return found


def markdown_of(path: Path) -> list[tuple[str, str]]:
    """(label, markdown) pairs: each markdown cell of a notebook, or the whole .md file."""
    raw = Path(path).read_text(encoding="utf-8")
    if Path(path).suffix != ".ipynb":
        return [(str(path), raw)]
    cells = json.loads(raw)["cells"]
    return [(f"{path} cell {i}", "".join(c["source"]) if isinstance(c["source"], list)
             else c["source"]) for i, c in enumerate(cells) if c["cell_type"] == "markdown"]


def _fix_file(path: Path) -> int:
    """Rewrite one file in place (read-modify-write at once); return the cells changed."""
    path = Path(path)
    raw = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        new = fix(raw)
        if new != raw:
            path.write_text(new, encoding="utf-8")
        return int(new != raw)
    nb = json.loads(raw)
    changed = 0
    for cell in nb["cells"]:
        if cell["cell_type"] != "markdown":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        new = fix(src)
        if new != src:
            changed += 1
            cell["source"] = new.splitlines(keepends=True) if isinstance(cell["source"], list) \
                else new
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return changed


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in ("--check", "--fix"):
        print(__doc__)
        return 2
    mode, paths = argv[0], [Path(p) for p in argv[1:]]
    bad = 0
    for path in paths:
        if mode == "--fix":
            n = _fix_file(path)
            if n:
                print(f"{path}: {n} cell(s) rewritten")
        for label, text in markdown_of(path):
            for p in problems(text):
                bad += 1
                print(f"{label}: {p}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
