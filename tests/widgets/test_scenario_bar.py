"""ScenarioBar: save / restore a component's inputs as JSON (string, file, upload)."""
import base64
import json

import traitlets as T

from widgets import ScenarioBar, ShockPanel
from widgets._ui import Component
from widgets.engine import MarginInputError
from widgets.scenario_bar import safe_name


class Dummy(Component):
    """A two-input component: ``rate`` in [0, 1] (checked in an observer) and a ``label``."""

    rate = T.Float(0.1)
    label = T.Unicode("base")
    doubled = T.Float(0.2, read_only=True)
    _state_traits = ("rate", "label")

    def __init__(self, **kwargs):
        super().__init__(children=[self._problem_box], **kwargs)
        self._good = self.rate
        self.observe(self._on_rate, names="rate")

    def _on_rate(self, change):
        def apply():
            if not 0 <= change["new"] <= 1:
                raise MarginInputError(f"rate must be in [0, 1], got {change['new']}")
            self._good = change["new"]
            self.set_trait("doubled", 2 * self._good)

        self._guard(apply, revert=lambda: setattr(self, "rate", self._good))


def _payload(component="ShockPanel", state=None, **extra):
    return json.dumps({"component": component, "version": 1, "state": state or {}, **extra})


def test_string_round_trip_and_text_follows_the_component():
    panel = ShockPanel()
    bar = ScenarioBar(panel)
    panel.apply_crisis()
    data = json.loads(bar.text)                              # the box follows the component
    assert data == {"component": "ShockPanel", "version": 1, "state": {"shock": panel.shock}}
    assert bar._text.value == bar.text == bar.dumps()
    other = ShockPanel()
    other_bar = ScenarioBar(other)
    other_bar._text.value = bar.text                         # learner pastes, then clicks
    other_bar._load_text.click()
    assert other.shock == panel.shock and other_bar.status.startswith("Loaded text")
    assert other._sliders["SOL"].value == -0.35
    assert base64.b64encode(bar.text.encode()).decode() in bar._download.value


def test_file_round_trip_through_the_buttons(tmp_path):
    folder = tmp_path / "scen"
    panel = ShockPanel()
    bar = ScenarioBar(panel, directory=str(folder))
    assert bar._files.options == () and bar._files.value is None
    panel._sliders["ETH"].value = -0.3
    bar._name.value = "eth crash!"
    bar._save.click()
    path = folder / "eth_crash.json"
    assert path.is_file() and bar.last_saved_path == str(path)
    assert json.loads(path.read_text())["state"]["shock"]["ETH"] == -0.3
    assert "Saved" in bar.status and "download" in bar.status
    fresh = ShockPanel()
    fresh_bar = ScenarioBar(fresh, directory=str(folder))
    assert fresh_bar._files.options == ("eth_crash",)
    fresh_bar._load.click()
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
        assert 'role="alert"' in bar._status_box.value
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
    assert "rate must be in [0, 1], got 5.0" in dbar.status
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
        bar._upload.set_state({"value": [{
            "name": name, "type": "application/json", "size": len(content),
            "content": memoryview(content), "last_modified": 1_700_000_000_000}]})

    upload(b"\xef\xbb\xbf" + good)                          # a BOM from a Windows editor
    assert panel.shock == src.shock and bar.status == "Loaded crisis.json into ShockPanel."
    assert bar._upload.value == ()                           # cleared for the next upload
    panel.reset()
    upload(_payload("Dummy", {"rate": 0.5}).encode())
    assert "for Dummy, not ShockPanel" in bar.status and all(v == 0 for v in panel.shock.values())
    upload(b"\xff\xfe\x00garbage", name="../x.json")
    assert bar.status == "Not loaded: x.json is not a text (UTF-8) file."


def test_one_change_sends_one_update_per_bar_widget(comm_log):
    panel = ShockPanel()
    bar = ScenarioBar(panel)
    comm_log.clear()
    panel._sliders["BTC"].value = -0.05
    assert len(comm_log.updates_for(bar._text)) == 1
    assert len(comm_log.updates_for(bar._download)) == 1
    assert comm_log.updates_for(bar._status_box) == []
