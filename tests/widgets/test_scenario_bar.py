"""ScenarioBar: save / restore a component's inputs as JSON (string, file, upload)."""
import base64
import html
import json

import ipywidgets as W
import pytest
import traitlets as T

import widgets
from widgets import ScenarioBar, ShockPanel
from widgets._ui import Component, Finite
from widgets.scenario_bar import MAX_BYTES, safe_name


class Dummy(Component):
    """A two-input component: ``rate`` in [0, 1] (refused by its trait) and a ``label``."""

    rate = Finite(0.1, min=0.0, max=1.0, help="A rate in [0, 1].")
    label = T.Unicode("base", help="A label.")
    doubled = T.Float(0.2, read_only=True, help="Twice the rate.")
    _state_traits = ("rate", "label")

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.observe(lambda change: self.set_trait("doubled", 2 * change["new"]), names="rate")


def shown(widget) -> str:
    """Every HTML text the widget shows (through its public ``children``), unescaped."""
    own = html.unescape(widget.value) if isinstance(widget, W.HTML) else ""
    return own + "".join(shown(c) for c in getattr(widget, "children", ()))


def status_box(bar) -> W.HTML:
    return bar.children[-1]                                  # the last row: the message


def download_link(bar) -> W.HTML:
    return bar.children[3].children[-1]                      # beside "Load from text", "Upload"


def _payload(component="ShockPanel", state=None, **extra):
    return json.dumps({"component": component, "version": 1, "state": state or {}, **extra})


def test_string_round_trip_and_text_follows_the_component():
    panel = ShockPanel()
    bar = ScenarioBar(panel)
    panel.apply_crisis()
    data = json.loads(bar.text)                              # the box follows the component
    assert data == {"component": "ShockPanel", "version": 1, "state": {"shock": panel.shock}}
    assert bar.controls["text"].value == bar.text == bar.dumps()
    other = ShockPanel()
    other_bar = ScenarioBar(other)
    other_bar.controls["text"].value = bar.text              # learner pastes, then clicks
    other_bar.controls["load_text"].click()
    assert other.shock == panel.shock and other_bar.status.startswith("Loaded text")
    assert other.shock["SOL"] == -0.35
    assert base64.b64encode(bar.text.encode()).decode() in download_link(bar).value


def test_file_round_trip_through_the_buttons(tmp_path):
    folder = tmp_path / "scen"
    panel = ShockPanel()
    bar = ScenarioBar(panel, directory=str(folder))
    c = bar.controls
    assert c["files"].options == () and c["files"].value is None
    panel.shock = {**panel.shock, "ETH": -0.3}
    c["name"].value = "eth crash!"
    c["save"].click()
    path = folder / "eth_crash.json"
    assert path.is_file() and bar.last_saved_path == str(path)
    assert json.loads(path.read_text())["state"]["shock"]["ETH"] == -0.3
    assert "Saved" in bar.status and "download" in bar.status
    fresh = ShockPanel()
    fresh_bar = ScenarioBar(fresh, directory=str(folder))
    assert fresh_bar.controls["files"].options == ("eth_crash",)
    fresh_bar.controls["load"].click()
    assert fresh.shock == panel.shock and fresh.shocked_prices[1] == 2_800.0


def test_dummy_component_round_trip_and_partial_preset_with_note(tmp_path):
    d = Dummy()
    bar = ScenarioBar(d, directory=str(tmp_path))
    d.rate, d.label = 0.4, "stressed"
    assert bar.save("preset") and json.loads(bar.text)["component"] == "Dummy"
    d2 = Dummy()
    bar2 = ScenarioBar(d2, directory=str(tmp_path))
    assert bar2.load("preset") and (d2.rate, d2.label, d2.doubled) == (0.4, "stressed", 0.8)
    assert bar2.loads(_payload("Dummy", {"rate": 0.9}, note="A calm market."))
    assert (d2.rate, d2.label) == (0.9, "stressed") and bar2.status.endswith("A calm market.")


def test_refuses_other_component_bad_json_bad_shape_and_version():
    panel = ShockPanel()
    panel.apply_crisis()
    before = dict(panel.shock)
    bar = ScenarioBar(panel)
    cases = {
        _payload("Dummy", {"rate": 0.5}): "this scenario is for Dummy, not ShockPanel",
        "{not json": "not valid JSON (line 1, column 2",
        '{"component": "ShockPanel", "version": 1, "state": {"shock": {"BTC": NaN}}}':
            "NaN is not allowed",
        "[1, 2]": "is not a scenario",
        json.dumps({"component": "ShockPanel", "state": {}}): "is not a scenario",
        _payload(state={}, extra_key=1): "is not a scenario",
        json.dumps({"component": "ShockPanel", "version": 2, "state": {}}): "version 2",
    }
    for text, reason in cases.items():
        assert bar.loads(text) is False, text
        assert bar.status.startswith("Not loaded: ") and reason in bar.status, bar.status
        assert 'role="alert"' in status_box(bar).value and bar.status in shown(bar)
        assert panel.shock == before
    assert panel.problem == ""                               # refused before reaching it


def test_refuses_unknown_keys_and_rejected_values_leaving_state_unchanged():
    panel = ShockPanel()
    panel.shock = {**panel.shock, "BTC": -0.1}
    before = (dict(panel.shock), list(panel.shocked_prices))
    bar = ScenarioBar(panel)
    assert not bar.loads(_payload(state={"rho": 0.5}))
    assert "unknown setting(s) for ShockPanel: rho (known: shock)" in bar.status
    assert not bar.loads(_payload(state={"shock": {"BTC": -3.0}}))
    assert panel.problem and panel.problem in bar.status
    assert (dict(panel.shock), list(panel.shocked_prices)) == before
    assert json.loads(bar.text)["state"]["shock"]["BTC"] == -0.1
    d = Dummy()
    dbar = ScenarioBar(d)
    assert not dbar.loads(_payload("Dummy", {"label": "new", "rate": 5.0}))
    assert (d.rate, d.label, d.doubled) == (0.1, "base", 0.2)    # label rolled back too
    assert "rate must be in [0, 1], got 5" in dbar.status
    assert not dbar.loads(_payload("Dummy", {"rate": "high"}))   # wrong type for the trait
    assert d.rate == 0.1 and "Not loaded" in dbar.status


def test_names_are_sanitized_and_nothing_escapes_the_folder(tmp_path):
    assert safe_name("../../etc/passwd") == "etc_passwd"
    assert safe_name("  my scenario.JSON ") == "my_scenario"
    assert safe_name("a" * 100) == "a" * 64
    assert safe_name("../..") == safe_name("") == ""
    folder = tmp_path / "inner"
    bar = ScenarioBar(ShockPanel(), directory=str(folder))
    assert bar.save("../../evil")
    assert (folder / "evil.json").is_file()
    assert sorted(p.name for p in tmp_path.rglob("*.json")) == ["evil.json"]
    assert not bar.save("../..") and bar.status.startswith("Not saved: give the scenario a name")
    assert not bar.load("../nope") and "there is no saved scenario" in bar.status
    (folder / "bad name.json").write_text("{}")              # not listed: unsafe stem
    assert bar.refresh() == ["evil"]
    assert not bar.load(None) and "choose a saved scenario" in bar.status


def test_save_failure_is_a_message(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    bar = ScenarioBar(ShockPanel(), directory=str(blocker))
    assert not bar.save("x") and bar.status.startswith("Not saved: could not write")
    assert bar.last_saved_path == ""


def test_file_upload_loads_and_refuses(tmp_path):
    src = ShockPanel()
    src.apply_crisis()
    good = ScenarioBar(src).dumps().encode()
    panel = ShockPanel()
    bar = ScenarioBar(panel)

    def upload(content: bytes, name="crisis.json"):            # as the browser sends it
        bar.controls["upload"].set_state({"value": [{
            "name": name, "type": "application/json", "size": len(content),
            "content": memoryview(content), "last_modified": 1_700_000_000_000}]})

    upload(b"\xef\xbb\xbf" + good)                          # a BOM from a Windows editor
    assert panel.shock == src.shock and bar.status == "Loaded crisis.json into ShockPanel."
    assert bar.controls["upload"].value == ()                # cleared for the next upload
    panel.reset()
    upload(_payload("Dummy", {"rate": 0.5}).encode())
    assert "for Dummy, not ShockPanel" in bar.status and all(v == 0 for v in panel.shock.values())
    upload(b"\xff\xfe\x00garbage", name="../x.json")
    assert bar.status == "Not loaded: x.json is not a text (UTF-8) file."


def test_one_change_sends_one_update_per_bar_widget(comm_log):
    panel = ShockPanel()
    bar = ScenarioBar(panel)
    comm_log.clear()
    panel.shock = {**panel.shock, "BTC": -0.05}
    assert len(comm_log.updates_for(bar.controls["text"])) == 1
    assert len(comm_log.updates_for(download_link(bar))) == 1
    assert comm_log.updates_for(status_box(bar)) == []


# -- hostile scenario text (issue 13, point 3) -----------------------------------------------
def _crisis_bar():
    panel = ShockPanel()
    panel.apply_crisis()
    return panel, ScenarioBar(panel), dict(panel.shock)


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("text, reason", [
    (_deep(20_000), "text is nested too deeply to be a scenario"),                 # 40 kB
    ('{"component": "ShockPanel", "version": 1, "state": {"shock": ' + _deep(20_000) + "}}",
     "nested too deeply"),
    ("[1, 2]", "is not a scenario"),
    ('"a string"', "is not a scenario"),
    ("3", "is not a scenario"),
    ("null", "is not a scenario"),
    (" " * (MAX_BYTES + 1), "too large to be a scenario file"),
    ('{"x": "' + "y" * 300_000 + '"}', "too large to be a scenario file"),
    (_payload("Q" * 10_000), "this scenario is for QQQ"),
    (json.dumps({"component": ["Shock", "Panel"] * 500, "version": 1, "state": {}}),
     "this scenario is for ['Shock', 'Panel',"),
    (json.dumps({"component": "ShockPanel", "version": "1", "state": {}}), "version '1'"),
    (json.dumps({"component": "ShockPanel", "version": True, "state": {}}), "version True"),
    (json.dumps({"component": "ShockPanel", "version": [1] * 5_000, "state": {}}),
     "version [1, 1,"),
    (_payload(state={f"k{i}" * 50: 1 for i in range(1_000)}), "and 995 more"),
    (_payload(state={"shock": "x" * 100_000}), "shock"),
    (_payload(state={"shock": None}), "shock"),
    (_payload(state={"shock": [1, 2]}), "shock"),
    (_payload(state={"shock": {"BTC": "x"}}), "shock must be numbers"),
    (_payload(state={"shock": {"BTC": 1e308}}), "BTC"),
    (_payload(state={"shock": json.loads(_deep(900))}), "shock"),
])
def test_hostile_text_is_refused_with_a_short_message_and_nothing_changes(text, reason):
    panel, bar, before = _crisis_bar()
    bar.loads(_payload(state={"shock": before}))             # a status to be replaced
    assert bar.status.startswith("Loaded")
    assert bar.loads(text) is False
    assert bar.status.startswith("Not loaded: ") and reason in bar.status, bar.status
    assert len(bar.status) <= 300 and bar.status in shown(bar)
    assert 'role="alert"' in status_box(bar).value
    assert panel.shock == before and json.loads(bar.text)["state"]["shock"] == before


def test_a_byte_order_mark_is_accepted_pasted_from_a_file_and_uploaded(tmp_path):
    src, _, crisis = _crisis_bar()
    good = ScenarioBar(src).dumps()
    for how in ("pasted", "file", "upload"):
        panel = ShockPanel()
        bar = ScenarioBar(panel, directory=str(tmp_path))
        if how == "pasted":
            bar.controls["text"].value = "\ufeff" + good
            bar.controls["load_text"].click()
        elif how == "file":
            (tmp_path / "bom.json").write_text(good, encoding="utf-8-sig")
            assert (tmp_path / "bom.json").read_bytes()[:3] == b"\xef\xbb\xbf"
            bar.load("bom")
        else:
            content = b"\xef\xbb\xbf" + good.encode()
            bar.controls["upload"].set_state({"value": [{
                "name": "bom.json", "type": "application/json", "size": len(content),
                "content": memoryview(content), "last_modified": 1_700_000_000_000}]})
        assert bar.status.startswith("Loaded"), (how, bar.status)
        assert panel.shock == crisis, how


def test_wrong_types_for_the_bar_itself_are_messages():
    panel, bar, before = _crisis_bar()
    assert bar.loads(b'{"component": "ShockPanel"}') is False
    assert "must be JSON text (a str), got bytes" in bar.status
    bar.directory = 5
    assert bar.directory == "scenarios" and bar.status.startswith("Not changed: ")
    bar.text = ["not", "text"]
    assert bar.status.startswith("Not changed: ") and json.loads(bar.text)["state"]
    assert panel.shock == before


def _close(a, b) -> bool:
    """Equal up to the 12 significant digits a saved scenario keeps (``display_floats``)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_close, a, b))
    if isinstance(a, float) or isinstance(b, float):
        return abs(a - b) <= 1e-11 * max(1.0, abs(a), abs(b))
    return a == b


def _components():
    out = []
    for name in widgets.__all__:
        cls = getattr(widgets, name)
        if isinstance(cls, type) and issubclass(cls, Component) and name != "SelfCheck":
            out.append(name)
    return out


@pytest.mark.parametrize("name", _components())
def test_every_component_round_trips_and_refuses_bad_values(name):
    cls = getattr(widgets, name)
    source, target = cls(), cls()
    bar = ScenarioBar(target)
    saved = ScenarioBar(source).dumps()
    state = json.loads(saved)["state"]
    assert set(state) == set(target.get_state_dict())
    assert bar.loads(saved), bar.status
    assert _close(target.get_state_dict(), source.get_state_dict()) and target.problem == ""
    for key in state:                                        # a wrong type for every input
        for bad in ("text", None, [[["deep"]]], {"x": "y" * 10_000}):
            before = target.get_state_dict()
            ok = bar.loads(_payload(name, {key: bad}))
            assert len(bar.status) <= 300, bar.status
            if not ok:
                assert target.get_state_dict() == before, (key, bad)
