"""Accessible controls (widgets/_controls.py): named sliders that speak their unit, a named Play.

The browser side (label tied to the input, aria-valuetext after key presses, axe-core clean) is
checked by tests/browser; here: the values a screen reader hears, the traits, and that every
component builds its sliders and Play buttons from these controls (ipywidgets' own slider
handles and Play buttons have no accessible name).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess

import ipywidgets as W
import pytest
import traitlets as T

from widgets import _controls, _ui
from widgets._controls import IntSlider, Play, SelectionSlider, Slider, format_value, value_spec


def test_sliders_speak_their_unit():
    assert _ui.slider("Shock", -0.05, -0.5, 0.0, 0.01).value_text == "-5 %"
    s = _ui.slider("Shock", 0.0, -0.5, 0.0, 0.01)
    s.value = -0.04999999999999999                 # what a float step makes of -5 %
    assert s.value_text == "-5 %"
    assert _ui.slider("Collateral (USDC)", 30_000.0, 0.0, 100_000.0, 500.0,
                      fmt="$,.0f").value_text == "30,000 USD"
    assert _ui.slider("Level", 0.35, 0, 1, 0.05, ".2f").value_text == "0.35"
    assert _ui.slider("Size", -1234.5, -5000, 5000, 0.5, ",.1f").value_text == "-1,234.5"
    assert _ui.slider("Zero", -0.001, -1, 1, 0.01, ".2f").value_text == "0.00"   # no "-0.00"
    assert _ui.depth_slider(30.0).value_text == "30x"
    assert _ui.int_slider("Round", 3, 0, 9).value_text == "3"


def test_readout_formats_outside_the_subset_are_refused():
    for bad in ("", ".0e", "~s", "$.2~s"):
        with pytest.raises(ValueError, match="readout_format"):
            value_spec(bad)


def test_slider_clamps_like_ipywidgets():
    s = Slider(value=5.0, min=0.0, max=2.0, step=0.5, readout_format=".1f")
    assert s.value == 2.0
    s.max = 1.0
    assert s.value == 1.0
    s.value = -3.0
    assert s.value == 0.0
    i = IntSlider(value=0, min=0, max=0)
    i.max, i.value = 5, 9
    assert i.value == 5 and isinstance(i.value, int)


def test_selection_slider_index_and_value_move_together():
    d = _ui.depth_slider(30.0)
    assert isinstance(d, SelectionSlider) and d.value == 30.0 and d.label == "30×"
    assert d.option_labels == [label for label, _ in d.options]
    d.index = 5                                      # what the browser sends
    assert d.value == d.options[5][1] and d.value_text == d.options[5][0].replace("×", "x")
    d.value = 100.0
    assert d.index == [v for _, v in d.options].index(100.0)
    with pytest.raises(T.TraitError, match="Invalid selection"):
        d.value = 31.0
    _ui.display_value(d, 10 ** 1.5)                  # off the grid: the option is added
    assert d.label == "31.6×" and _ui.shows(d, 10 ** 1.5)


def test_play_is_a_named_button():
    p = _ui.play(interval=500)
    assert isinstance(p, Play) and p.description == "Play" and p.interval == 500
    p.max = 4
    p.value = 9
    assert p.value == 4
    p.playing = True
    p.playing = False                                # the kernel can stop it (reset)
    assert "aria-hidden" in _controls.PLAY_ESM and "'Pause'" in _controls.PLAY_ESM


def test_slider_view_ties_the_label_and_sets_valuetext():
    """The view's contract, read from its module: a native range input, a label whose ``for``
    is the input's id, aria-valuetext set on every input event, Lumino's shortcut switch."""
    esm = _controls.SLIDER_ESM
    assert "input.type = 'range'" in esm and "label.htmlFor = id" in esm and "input.id = id" in esm
    assert re.search(r"addEventListener\('input',[^}]*show\(read\(\)\)", esm)
    assert "setAttribute('aria-valuetext'" in esm
    assert "data-lm-suppress-shortcuts" in esm
    assert "randomUUID" in esm                 # ids unique across separately loaded modules


def _widgets_under(w, seen=None):
    seen = set() if seen is None else seen
    if id(w) in seen:
        return
    seen.add(id(w))
    yield w
    for child in getattr(w, "children", ()) or ():
        yield from _widgets_under(child, seen)


def _components():
    import widgets as cml
    for name in ("HealthGauge", "PoolingLab", "CorrelationLab", "CascadeLab",
                 "InsuranceFundLab", "ShockPanel", "SpiralChart", "AdlQueueChart",
                 "BracketChart", "PolicyFrontier"):
        yield name, getattr(cml, name)()


def test_components_use_the_accessible_controls():
    unnamed_kinds = (W.FloatSlider, W.IntSlider, W.SelectionSlider, W.FloatLogSlider, W.Play)
    found = 0
    for name, comp in _components():
        for w in _widgets_under(comp):
            assert not isinstance(w, unnamed_kinds), (
                f"{name}: {type(w).__name__} {getattr(w, 'description', '')!r} has no "
                "accessible name in the browser: build it with _ui.slider / int_slider / "
                "depth_slider / play")
            if isinstance(w, Slider):
                found += 1
                assert w.description.strip(), f"{name}: a slider without a label"
                assert w.value_text
    assert found >= 10


JS_VALUES = [-0.5, -0.05, -0.04999999999999999, -0.001, 0.0, 0.005, 0.125, 1.0, 12.5,
             30_000.0, -1234.5, 1e6]
JS_FORMATS = [".0%", ".1%", ".2f", ".1f", ",.2f", ",.0f", "$,.0f", "d"]


def test_browser_and_python_write_values_alike():
    """The ESM's ``fmt`` (run by node) writes every value as :func:`format_value` does."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node not installed: the browser formatter cannot be run here")
    body = _controls.SLIDER_ESM
    fmt = body[body.index("function fmt"):body.index("function render")]
    cases = [[v, value_spec(f)] for f in JS_FORMATS for v in JS_VALUES]
    script = fmt + f"\nconsole.log(JSON.stringify({json.dumps(cases)}.map(([v, s]) => fmt(v, s))));"
    out = subprocess.run([node, "-e", script], capture_output=True, text=True, timeout=60,
                         check=True).stdout
    assert json.loads(out) == [format_value(v, s) for v, s in cases]
