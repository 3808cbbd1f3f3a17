"""Every lesson, run for real: JupyterLab + Chromium, light and dark theme.

For each ``lessons/NN_*.ipynb`` (new lessons are picked up automatically):

1. open it in JupyterLab, Run All Cells, wait until the kernel is idle and every code cell has an
   execution count;
2. no error output, no stderr output, no "Error displaying widget", no widget/model console
   error;
3. every bqplot figure is drawn: it has a size and its marks have shapes (bars, line paths,
   dots, cells, labels);
4. if a component with a chart has a slider: focus the slider handle, press arrow keys, and its
   chart (SVG) *and* its text summary (``[role=status]``) change;
5. if a component has a Step button (or a Play widget): press it and the chart changes;
6. screenshots of the whole notebook in JupyterLab Light and JupyterLab Dark
   (``tests/browser/artifacts/<lesson>-light.png`` / ``-dark.png``); in both themes every chart
   and widget text must stay readable (WCAG contrast ratio >= 2 against what is behind it;
   texts under 3 are listed in ``artifacts/<lesson>-<theme>-contrast.txt``).

``CML_BROWSER_DEMO=1`` adds ``99_demo``, a notebook generated in the temporary copy with one
cell per chart component, to check components before a lesson uses them.
"""
from __future__ import annotations

import json
import os

import _lab
import pytest

pytestmark = pytest.mark.browser

DEMO = "99_demo.ipynb"
DEMO_CELLS = [
    "from widgets import HealthGauge\nHealthGauge()",
    "from widgets import MarginBreakdown\nMarginBreakdown()",
    "from widgets import PoolingLab\nPoolingLab()",
    "from widgets import CorrelationLab\nCorrelationLab()",
    "from widgets import CascadeLab\nCascadeLab()",
    "from widgets import InsuranceFundLab\nInsuranceFundLab()",
]

NOTEBOOKS = [p.name for p in _lab.lesson_notebooks()]
if os.environ.get("CML_BROWSER_DEMO") == "1":
    NOTEBOOKS.append(DEMO)


def _write_demo(root) -> None:
    cells = [{"cell_type": "code", "execution_count": None, "id": f"demo{i}", "metadata": {},
              "outputs": [], "source": src} for i, src in enumerate(DEMO_CELLS)]
    nb = {"cells": cells, "nbformat": 4, "nbformat_minor": 5,
          "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3",
                                      "language": "python"}}}
    (root / DEMO).write_text(json.dumps(nb), encoding="utf-8")


@pytest.mark.parametrize("notebook", NOTEBOOKS)
def test_lesson_runs_and_renders(notebook, lab, lessons_copy):
    if notebook == DEMO:
        _write_demo(lessons_copy)
    stem = notebook.removesuffix(".ipynb")
    page = lab.page
    clock = _lab.PhaseClock()

    lab.open(notebook)
    lab.set_theme(_lab.LIGHT)
    clock.lap("open")
    lab.run_all()
    clock.lap("run")
    assert lab.errors() == [], f"{notebook}: errors after Run All"

    expected = _lab.expected_figures(page, "lab")
    assert expected >= 0, "cannot read the widget manager's models (ipywidgets internals moved?)"
    undrawn = _lab.wait_figures_drawn(page, expected)
    assert lab.errors() == [], f"{notebook}: errors while the widgets rendered"
    assert undrawn == [], f"{notebook}: bqplot figures not drawn: {undrawn}"
    figures = _lab.chart_report(page)
    clock.lap("render")

    # -- interaction: keyboard on the first slider of a chart component ---------------------
    slider = _lab.press_slider_keys(page)
    if slider is not None:
        info, before, after = slider
        assert info["figures"] > 0 and info["statuses"] > 0, (
            f"{notebook}: the component of slider {info['label']!r} has no chart or no "
            f"[role=status] summary: {info}")
        assert after["svg"] != before["svg"] and after["status"] != before["status"]

    # -- Step (or Play) changes the chart ------------------------------------------------------
    step = _lab.press_step(page)
    if step is not None:
        before, after = step
        assert after["svg"] != before["svg"]

    lab.wait_kernel_idle()
    assert lab.errors() == [], f"{notebook}: errors after interacting"
    clock.lap("interact")

    # -- screenshots and readability in both themes --------------------------------------------
    unreadable = []
    for theme, suffix in ((_lab.LIGHT, "light"), (_lab.DARK, "dark")):
        lab.set_theme(theme)
        with lab.whole_notebook():
            assert _lab.wait_figures_drawn(page, expected) == [], (
                f"{notebook}: charts blank in {theme}")
            _lab.screenshot(page, f"{stem}-{suffix}")
            unreadable += [f"{suffix}: {line}"
                           for line in _lab.contrast_report(page, f"{stem}-{suffix}")]
        clock.lap(suffix)
    lab.set_theme(_lab.LIGHT)
    assert not unreadable, (f"{notebook}: unreadable text (contrast < {_lab.MIN_CONTRAST}:1):\n"
                            + "\n".join(unreadable))
    assert lab.errors() == [], f"{notebook}: errors after switching themes"
    print(f"\n{notebook}: {len(figures)} figure(s) drawn of {expected} expected; slider: "
          f"{slider[0]['label'] if slider else '-'}; step: {'yes' if step else '-'}; {clock}")
