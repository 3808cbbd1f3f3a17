"""The app notebooks (``lessons/apps/*.ipynb``) as Voilà dashboards, in a real Chromium.

One Voilà server per app, on 127.0.0.1 and a free port, serving the temporary copy of the app.
For the light and the dark theme (``?theme=dark``, a fresh kernel each time):

* every bqplot figure of the app is drawn (SVG marks with shapes);
* no error or stderr output, no "Error displaying widget";
* a slider works from the keyboard: arrow keys on the first slider handle of a chart component
  change its chart and its ``[role=status]`` summary;
* where the app has a Step button (or a Play widget), pressing it changes the chart;
* what the learner sees (``_render``): no MathJax error or raw TeX in markdown, no overlapping
  texts in a figure, no legend over ticks or data, readable and clickable choices, every
  relative link resolves; no browser console error at all;
* Voilà 0.5's ``lab`` template links two Font Awesome stylesheets from cdn.jsdelivr.net,
  which the sandboxed browser cannot fetch (2 console errors per page). Our widgets do not
  use them (the widget bundle ships its icons), so exactly those two URLs are answered with
  an empty stylesheet, counted and reported (``... Font Awesome CDN stylesheets stubbed``);
  every other request and console error is left as it is. A learner online gets the real
  files; offline, the same two harmless console errors;
* axe-core (``_lab.run_axe``: WCAG 2.x A/AA and best practices) finds no violation in the
  app's output areas (each offending element in ``artifacts/voila-<app>-<theme>-axe.txt``);
* all chart text reaches WCAG AA (contrast >= 4.5:1), widget text >= 2:1 (weaker than 4.5 is
  listed in ``artifacts/voila-<app>-<theme>-contrast.txt``); a full-page screenshot is saved as
  ``artifacts/voila-<app>-<theme>.png``.
"""
from __future__ import annotations

import re

import _lab
import _render
import pytest

pytestmark = pytest.mark.browser

APPS = [p.name for p in _lab.app_notebooks()]

# The two stylesheets of Voilà 0.5's lab/index.html.j2 (``fontawesome-free@^5``; the ``^`` may
# arrive percent-encoded). Nothing else on the CDN, and no other host, is answered.
FONT_AWESOME_CDN = re.compile(r"^https://cdn\.jsdelivr\.net/npm/@fortawesome/fontawesome-free@"
                              r"(\^|%5[Ee])5/css/(all|v4-shims)\.min\.css$")


def stub_font_awesome(context) -> list[str]:
    """Answer Voilà's two Font Awesome CDN stylesheets with an empty stylesheet; returns the
    list the stubbed URLs are appended to (so a run can report how many it answered)."""
    stubbed: list[str] = []

    def answer(route):
        stubbed.append(route.request.url)
        route.fulfill(status=200, content_type="text/css", body="/* stubbed by the test */")
    context.route(FONT_AWESOME_CDN, answer)
    return stubbed


def test_font_awesome_pattern_is_narrow():
    base = "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@"
    assert FONT_AWESOME_CDN.match(base + "^5/css/all.min.css")
    assert FONT_AWESOME_CDN.match(base + "%5E5/css/v4-shims.min.css")
    for other in (base + "^5/js/all.min.js", base + "^5/css/all.min.css?x=1",
                  "https://cdn.jsdelivr.net/npm/mathjax@3/es5/tex-svg.js",
                  "https://example.org/npm/@fortawesome/fontawesome-free@^5/css/all.min.css"):
        assert not FONT_AWESOME_CDN.match(other), other


def test_there_are_apps():
    assert APPS, "no app notebooks in lessons/apps"


def _errors(page) -> list[str]:
    page.evaluate(_lab.JS_LIB)
    found = page.evaluate("""() => {
        const out = [];
        for (const e of document.querySelectorAll(
                '[data-mime-type="application/vnd.jupyter.stderr"], ' +
                '[data-mime-type="application/vnd.jupyter.error"]'))
            out.push(`output: ${e.textContent.slice(0, 500)}`);
        for (const e of document.querySelectorAll('pre.jp-RenderedText'))
            if (e.textContent.startsWith('Javascript Error')) out.push(e.textContent);
        return out.concat(__cml.widgetErrors());
    }""")
    return found


@pytest.mark.parametrize("app", APPS)
def test_app_in_voila(app, chromium, lessons_copy, voila_home, axe_available):
    stem = app.removesuffix(".ipynb")
    server = _lab.start_voila(lessons_copy / "apps" / app, voila_home,
                              _lab.ARTIFACTS / f"voila-{stem}.log")
    failures = []                  # both themes are checked (and screenshot) before failing
    try:
        for theme in ("light", "dark"):
            context = chromium.new_context(viewport=_lab.VIEWPORT)
            context.set_default_timeout(_lab.UI_TIMEOUT_MS)
            stubbed = stub_font_awesome(context)
            page = context.new_page()
            console: list[str] = []
            page.on("console",
                    lambda m, c=console: m.type == "error" and c.append(_lab.console_text(m)))
            page.on("pageerror", lambda exc, c=console: c.append(f"pageerror: {exc}"))
            try:
                _check_app(page, server, stem, theme, console, lessons_copy / "apps",
                           axe_available)
            except AssertionError as exc:
                failures.append(str(exc))
            finally:
                print(f"\nvoila {stem} ({theme}): {len(stubbed)} Font Awesome CDN "
                      f"stylesheet request(s) stubbed: {sorted(set(stubbed))}")
                context.close()
    finally:
        server.stop()
    assert not failures, "\n".join(failures)


def _check_app(page, server, stem: str, theme: str, console: list[str],
               app_dir, axe_available: bool = False) -> None:
    where = f"voila {stem} ({theme})"
    page.goto(f"{server.url}/?theme={theme}", wait_until="domcontentloaded",
              timeout=_lab.KERNEL_TIMEOUT_MS)
    page.wait_for_selector(".bqplot.figure", state="attached", timeout=_lab.KERNEL_TIMEOUT_MS)
    light = "true" if theme == "light" else "false"
    page.wait_for_function("(light) => document.body.dataset.jpThemeLight === light",
                           arg=light, timeout=_lab.UI_TIMEOUT_MS)
    expected = _lab.expected_figures(page, "voila")
    assert expected >= 1, f"{where}: no bqplot figure among the app's widgets ({expected})"
    assert _lab.wait_figures_drawn(page, expected) == [], f"{where}: charts not drawn"
    assert _errors(page) == [], f"{where}: errors after loading"

    slider = _lab.press_slider_keys(page)
    assert slider is not None, f"{where}: no slider in a component with a chart"
    info, before, after = slider
    assert info["statuses"] > 0, f"{where}: the slider's component has no [role=status]"
    assert after["svg"] != before["svg"] and after["status"] != before["status"]

    step = _lab.press_step(page)
    if step is not None:
        assert step[1]["svg"] != step[0]["svg"]

    assert _lab.wait_figures_drawn(page, expected) == [], f"{where}: charts blank after input"
    assert _errors(page) == [], f"{where}: errors after interacting"

    name = f"voila-{stem}-{theme}"
    with _lab.tall_viewport(page):
        assert _lab.wait_figures_drawn(page, expected) == [], f"{where}: charts blank"
        looked = _render.inspect_page(page)
        seen = _render.summary(looked, app_dir, app_dir.parent, app_dir / f"{stem}.ipynb")
        page.screenshot(path=str(_lab.ARTIFACTS / f"{name}.png"), full_page=True)
        seen[_lab.CONTRAST_KEY] = _lab.contrast_report(page, name)
        seen["chart title / axis label off the theme's text colour"] = (
            _lab.off_theme_chart_text(page))
        if axe_available:
            scoped, violations = _lab.run_axe(page, _lab.AXE_VOILA_SCOPE)
            assert scoped > 0, f"{where}: no output area for axe"
            seen["axe-core violations"] = _lab.axe_lines(violations)
            _lab.write_artifact(f"{name}-axe.txt", seen["axe-core violations"])
            print(f"\n{where}: axe violations (elements) {_lab.axe_count(violations)}")
    seen["console"] = list(console)
    print(f"\n{where}: looked at {_render.counts(looked)}; problems: "
          + "; ".join(f"{k} {len(v)}" for k, v in seen.items()))
    assert looked["counts"]["figures"] > 0, f"{where}: no figure inspected"
    assert not any(seen.values()), _render.format_problems(where, seen)
    print(f"\n{where}: {expected} figure(s); slider {info['label']!r}; "
          f"step: {'yes' if step else '-'}")
