"""Browser latency benchmark: key press on a slider -> the chart's SVG changes, in JupyterLab.

Run from the repository root (needs /usr/bin/chromium and the ``test`` extra)::

    python tests/benchmarks/bench_browser.py              # 40 key presses per component
    python tests/benchmarks/bench_browser.py --presses 60

It starts JupyterLab exactly as the browser tests do (``tests/browser/_lab.py``: 127.0.0.1, free
port, random token, isolated Jupyter directories, a temporary copy of ``lessons/``), writes one
notebook per component into that copy (PoolingLab, CorrelationLab, CascadeLab on 10**4
accounts), and for each:

1. opens it and runs all cells: *open -> first chart* is the wall time from loading the page
   (kernel start included) to the first drawn bqplot figure; *run -> first chart* starts at
   Run All;
2. installs a MutationObserver on the component's bqplot SVGs and a keydown listener on the
   first slider handle of the component; presses the arrow key ``--presses`` times,
   alternating direction; for each press records ``performance.now()`` at the keydown and at
   the first SVG mutation after it (*key -> SVG*) and at the last one before the chart went
   quiet (*key -> settled*); after each press waits until the kernel is idle and the SVG has
   been still for 150 ms (or a 5 s timeout) before the next one.

Goal (informational, the script always exits 0): key -> SVG p95 < 100 ms, median < 50 ms.
"""
from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "browser"))

import _lab  # noqa: E402

COMPONENTS = {
    "PoolingLab": "from widgets import PoolingLab\nPoolingLab()",
    "CorrelationLab": "from widgets import CorrelationLab\nCorrelationLab()",
    "CascadeLab": "from widgets import CascadeLab\nCascadeLab(n_accounts=10_000)",
}
QUIET_MS = 150
PRESS_TIMEOUT_MS = 5_000

JS_INSTALL = """() => {
    const handle = document.querySelector('[data-cml-target="slider"]');
    const comp = document.querySelector('[data-cml-comp="slider"]');
    const b = window.__bench = {t0: null, first: null, last: null, mutations: 0};
    handle.addEventListener('keydown', () => {
        b.t0 = performance.now(); b.first = null; b.last = null; }, true);
    const obs = new MutationObserver(() => {
        const t = performance.now(); b.mutations++; b.last = t;
        if (b.t0 !== null && b.first === null) b.first = t; });
    for (const svg of comp.querySelectorAll('.bqplot svg.svg-figure'))
        obs.observe(svg, {subtree: true, childList: true, attributes: true, characterData: true});
    const h = handle;
    return {now: +h.getAttribute('aria-valuenow'), min: +h.getAttribute('aria-valuemin'),
            max: +h.getAttribute('aria-valuemax')};
}"""

JS_SETTLED = """(quiet) => { const b = window.__bench, w = window.jupyterapp.shell.currentWidget;
    const k = w.sessionContext.session && w.sessionContext.session.kernel;
    return b.first !== null && k && k.status === 'idle' && performance.now() - b.last > quiet; }"""


def write_notebooks(root: Path) -> dict[str, str]:
    names = {}
    for name, source in COMPONENTS.items():
        nb = {"cells": [{"cell_type": "code", "execution_count": None, "id": "bench",
                         "metadata": {}, "outputs": [], "source": source}],
              "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                          "language": "python"}},
              "nbformat": 4, "nbformat_minor": 5}
        path = root / f"bench_{name.lower()}.ipynb"
        path.write_text(json.dumps(nb), encoding="utf-8")
        names[name] = path.name
    return names


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(q / 100 * len(s) + 0.5)) - 1))]


def measure(lab: _lab.LabPage, notebook: str, presses: int) -> dict:
    page = lab.page
    t_open = time.perf_counter()
    lab.open(notebook)
    t_run = time.perf_counter()
    lab.run_all()
    page.evaluate(_lab.JS_LIB)
    page.wait_for_function(
        """() => __cml.figures().some((f) => { const s = __cml.figureState(f);
            return s.width > 0 && s.shapes > 0; })""", timeout=_lab.KERNEL_TIMEOUT_MS,
        polling="raf")
    t_chart = time.perf_counter()
    expected = _lab.expected_figures(page, "lab")
    assert _lab.wait_figures_drawn(page, expected) == [], "charts not drawn"
    lab.wait_kernel_idle()

    info = _lab.mark_target(page, "slider")
    assert info is not None, f"{notebook}: no slider in a chart component"
    handle = page.locator('[data-cml-target="slider"]')
    handle.scroll_into_view_if_needed()
    state = page.evaluate(JS_INSTALL)
    handle.focus()
    # alternate, starting away from the nearer end of the slider's range
    first = "ArrowLeft" if state["now"] - state["min"] > state["max"] - state["now"] \
        else "ArrowRight"
    other = "ArrowRight" if first == "ArrowLeft" else "ArrowLeft"
    first_ms, settled_ms, timeouts = [], [], 0
    for i in range(presses):
        page.keyboard.press(first if i % 2 == 0 else other)
        try:
            page.wait_for_function(JS_SETTLED, arg=QUIET_MS, timeout=PRESS_TIMEOUT_MS,
                                   polling=20)
        except Exception:                                 # noqa: BLE001 -- counted
            timeouts += 1
            lab.wait_kernel_idle()
            continue
        b = page.evaluate("() => window.__bench")
        first_ms.append(b["first"] - b["t0"])
        settled_ms.append(b["last"] - b["t0"])
    assert lab.errors() == [], lab.errors()
    return {"label": info["label"], "open_s": t_chart - t_open, "run_s": t_chart - t_run,
            "first": first_ms, "settled": settled_ms, "timeouts": timeouts}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--presses", type=int, default=40, help="key presses per component")
    args = parser.parse_args()
    from importlib.metadata import version

    from playwright.sync_api import sync_playwright

    tmp = _lab.temp_dir("cml-bench-browser-")
    root = _lab.copy_lessons(tmp / "lessons")
    notebooks = write_notebooks(root)
    server = _lab.start_lab(root, tmp / "home", _lab.ARTIFACTS / "bench-jupyterlab.log")
    results = {}
    try:
        with sync_playwright() as pw:
            browser = _lab.launch_chromium(pw)
            chromium_version = browser.version
            for name, notebook in notebooks.items():
                context = browser.new_context(viewport=_lab.VIEWPORT)
                lab = _lab.LabPage(context.new_page(), server)
                try:
                    results[name] = measure(lab, notebook, args.presses)
                    print(f"  {name}: done", flush=True)
                finally:
                    context.close()
                    server.shutdown_sessions()
            browser.close()
    finally:
        server.stop()

    print()
    print("=" * 92)
    print(f"Browser latency: JupyterLab {version('jupyterlab')}, ipywidgets "
          f"{version('ipywidgets')}, bqplot {version('bqplot')}, Chromium {chromium_version}, "
          f"Python {platform.python_version()}")
    print(f"{args.presses} arrow-key presses per component on its first slider; "
          "key -> first SVG mutation (and -> last, 'settled')")
    print("-" * 92)
    print(f"{'component':15} {'slider':26} {'open->chart':>11} {'run->chart':>10} "
          f"{'median':>7} {'p95':>6} {'max':>6} {'settled p50':>11} {'t/o':>4}")
    for name, r in results.items():
        f = r["first"] or [float("nan")]
        s = r["settled"] or [float("nan")]
        print(f"{name:15} {r['label'][:26]:26} {r['open_s']:10.1f}s {r['run_s']:9.1f}s "
              f"{statistics.median(f):5.0f}ms {percentile(f, 95):4.0f}ms {max(f):4.0f}ms "
              f"{statistics.median(s):9.0f}ms {r['timeouts']:4d}")
    print("-" * 92)
    print("goal (informational): key -> SVG p95 < 100 ms, median < 50 ms")
    print("=" * 92)
    return 0


if __name__ == "__main__":
    sys.exit(main())
