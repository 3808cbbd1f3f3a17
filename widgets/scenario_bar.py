"""ScenarioBar: save and restore a component's inputs as a small JSON file or string."""
from __future__ import annotations

import base64
import html
import json
import os
import re
from pathlib import Path

import ipywidgets as W
import traitlets as T

from . import _ui

FORMAT_VERSION = 1
MAX_BYTES = 256_000          # a scenario is a few hundred bytes; anything huge is not one
_KEYS = {"component", "version", "state", "note"}   # "note": an optional line for presets
_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


def safe_name(name) -> str:
    """A file stem made only of ``[A-Za-z0-9_-]``, at most 64 characters ('' if nothing is left).

    >>> safe_name("../../etc/passwd"), safe_name("ETH crash!.json"), safe_name("..")
    ('etc_passwd', 'ETH_crash', '')
    """
    stem = str(name).strip()
    if stem.lower().endswith(".json"):
        stem = stem[:-5]
    return _UNSAFE.sub("_", stem).strip("_-")[:64].rstrip("_-")


def display_floats(value, digits: int = 12):
    """``value`` with every float rounded to ``digits`` significant digits, for the JSON a learner
    reads and saves: a shock of -0.21 computed as -0.21000000000000008 is written -0.21. Twelve
    digits keep every input the widgets can set exactly (their sliders step by 0.01 or coarser)
    and change a value by at most 5e-13 of itself.

    >>> display_floats({"shock": {"BTC": -0.21000000000000008, "ETH": 0.1 + 0.2}, "n": [3, 2.5]})
    {'shock': {'BTC': -0.21, 'ETH': 0.3}, 'n': [3, 2.5]}
    """
    if isinstance(value, float):
        return float(f"{value:.{digits}g}")
    if isinstance(value, dict):
        return {k: display_floats(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [display_floats(v, digits) for v in value]
    return value


def _no_constants(token):
    raise ValueError(f"{token} is not allowed in JSON")


class ScenarioBar(W.VBox):
    """Save / load a component's full input state: to a file, a string, or an uploaded file.

    The JSON is ``{"component": "<ClassName>", "version": 1, "state": {...}}`` where ``state``
    is ``component.get_state_dict()`` (a preset may add ``"note": "<one line>"``, shown on
    loading; ``state`` may list only some inputs, the others keep their values). A scenario for
    another component, bad JSON, unknown settings or values the component rejects are refused
    with a message in the bar, and the component keeps its state.

    Parameters
    ----------
    component : widgets._ui.Component
        Anything with ``get_state_dict()``, ``set_state_dict(state) -> bool``, ``problem`` and
        ``_state_traits``.
    directory : str, default "scenarios"
        Folder for saved files, relative to the kernel's working directory (the notebook's).

    Traits
    ------
    text : Unicode (input/output) — the scenario JSON, shown in the "Scenario JSON" box; it
        follows the component, and "Load from text" applies what is typed there.
    directory : Unicode (input) — where ``save``/``load`` read and write.
    last_saved_path : Unicode (output, read-only) — path of the last file written.
    status : Unicode (output, read-only) — the last message shown in the bar.

    Examples
    --------
    >>> from widgets import ShockPanel
    >>> panel, other = ShockPanel(), ShockPanel()
    >>> panel.apply_crisis()
    >>> bar = ScenarioBar(other)
    >>> bar.loads(ScenarioBar(panel).dumps())
    True
    >>> other.shock == panel.shock
    True
    >>> bar.loads('{"component": "CascadeLab", "version": 1, "state": {}}')
    False
    >>> bar.status
    'Not loaded: this scenario is for CascadeLab, not ShockPanel.'
    """

    text = T.Unicode("", help="The scenario as JSON.")
    directory = T.Unicode("scenarios", help="Folder for saved scenario files.")
    last_saved_path = T.Unicode("", read_only=True)
    status = T.Unicode("", read_only=True)

    def __init__(self, component, directory: str = "scenarios", **kwargs):
        for need in ("get_state_dict", "set_state_dict", "_state_traits"):
            if not hasattr(component, need):
                raise TypeError(f"ScenarioBar needs a Component with {need}, got "
                                f"{type(component).__name__}")
        self.component = component
        wide = {"description_width": "initial"}
        self._name = W.Text(description="Scenario name", placeholder="e.g. eth_crash",
                            style=wide)
        self._save = W.Button(description="Save", icon="save",
                              tooltip="Save to a .json file in the scenarios folder")
        self._files = W.Dropdown(description="Saved scenarios", options=[], style=wide)
        self._load = W.Button(description="Load", icon="folder-open",
                              tooltip="Load the selected saved scenario")
        self._refresh = W.Button(description="Refresh list", icon="refresh",
                                 tooltip="List the files in the scenarios folder again")
        self._text = W.Textarea(description="Scenario JSON (copy or paste)", rows=5,
                                continuous_update=False, style=wide,
                                layout=W.Layout(width=_ui.FULL_WIDTH))
        self._load_text = W.Button(description="Load from text", icon="paste",
                                   tooltip="Apply the JSON in the box above")
        self._upload = W.FileUpload(accept=".json", multiple=False, description="Upload .json",
                                    tooltip="Load a scenario file from your computer")
        self._download = W.HTML("")
        self._status_box = W.HTML("", layout=W.Layout(width=_ui.FULL_WIDTH))
        super().__init__(children=[
            W.HBox([self._name, self._save]), W.HBox([self._files, self._load, self._refresh]),
            self._text, W.HBox([self._load_text, self._upload, self._download]),
            self._status_box], **kwargs)
        self.add_class("cml-scenario-bar")
        T.link((self, "text"), (self._text, "value"))
        self.directory = directory
        self._save.on_click(lambda _: self.save())
        self._load.on_click(lambda _: self.load(self._files.value))
        self._refresh.on_click(lambda _: self.refresh())
        self._load_text.on_click(lambda _: self.loads(self.text))
        self._upload.observe(self._on_upload, names="value")
        self.observe(lambda _: self.refresh(), names="directory")
        self._name.observe(self._follow, names="value")
        if component._state_traits:
            component.observe(self._follow, names=list(component._state_traits))
        self._follow()
        self.refresh()

    # -- string ---------------------------------------------------------------------------
    def dumps(self) -> str:
        """The component's current inputs as scenario JSON."""
        payload = {"component": type(self.component).__name__, "version": FORMAT_VERSION,
                   "state": display_floats(self.component.get_state_dict())}
        return json.dumps(payload, indent=1, sort_keys=True, allow_nan=False)

    def loads(self, text: str, source: str = "text") -> bool:
        """Apply scenario JSON to the component; False (and a message) if it is refused."""
        if len(text.encode("utf-8", "replace")) > MAX_BYTES:
            return self._refuse(f"{source} is too large to be a scenario file.")
        try:
            payload = json.loads(text, parse_constant=_no_constants)
        except ValueError as exc:
            where = (f" (line {exc.lineno}, column {exc.colno}: {exc.msg})"
                     if isinstance(exc, json.JSONDecodeError) else f" ({exc})")
            return self._refuse(f"{source} is not valid JSON{where}.")
        mine = type(self.component).__name__
        if (not isinstance(payload, dict)
                or not {"component", "version", "state"} <= set(payload) <= _KEYS
                or not isinstance(payload["state"], dict)
                or not isinstance(payload.get("note", ""), str)):
            return self._refuse(f"{source} is not a scenario: expected "
                                '{"component": ..., "version": 1, "state": {...}}.')
        if payload["component"] != mine:
            return self._refuse(f"this scenario is for {payload['component']}, not {mine}.")
        if payload["version"] != FORMAT_VERSION:
            return self._refuse(f"scenario format version {payload['version']!r} is not "
                                f"supported (this toolkit reads version {FORMAT_VERSION}).")
        unknown = sorted(set(payload["state"]) - set(self.component._state_traits))
        if unknown:
            return self._refuse(f"unknown setting(s) for {mine}: {', '.join(map(str, unknown))}"
                                f" (known: {', '.join(self.component._state_traits)}).")
        if not self.component.set_state_dict(payload["state"]):
            return self._refuse(self.component.problem or f"{mine} rejected the scenario.")
        self._follow()
        note = f" {payload['note']}" if payload.get("note") else ""
        return self._report(f"Loaded {source} into {mine}.{note}")

    # -- files ----------------------------------------------------------------------------
    def save(self, name: str | None = None) -> bool:
        """Write ``<directory>/<name>.json``; the name is reduced to ``[A-Za-z0-9_-]``."""
        stem = safe_name(self._name.value if name is None else name)
        if not stem:
            return self._refuse("give the scenario a name (letters, digits, _ or -).", "Not saved")
        folder = Path(self.directory)
        path = folder / f"{stem}.json"
        try:
            text = self.dumps()
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{stem}.json.tmp"
            tmp.write_text(text, encoding="utf-8")
            os.replace(tmp, path)
        except (OSError, ValueError) as exc:
            return self._refuse(f"could not write {path}: {getattr(exc, 'strerror', None) or exc}.",
                                "Not saved")
        self.set_trait("last_saved_path", str(path))
        self._name.value = stem
        self.refresh()
        self._files.value = stem
        return self._report(f"Saved {path}. To keep it after this session ends (e.g. on Binder), "
                            "download it from the file browser or with the link, or copy the "
                            "JSON.")

    def load(self, name: str | None) -> bool:
        """Load ``<directory>/<name>.json`` (as listed in the "Saved scenarios" menu)."""
        stem = safe_name(name or "")
        if not stem:
            return self._refuse("choose a saved scenario first.")
        path = Path(self.directory) / f"{stem}.json"
        try:
            if path.stat().st_size > MAX_BYTES:
                return self._refuse(f"{path} is too large to be a scenario file.")
            text = path.read_text(encoding="utf-8-sig")
        except FileNotFoundError:
            return self._refuse(f"there is no saved scenario {path}.")
        except (OSError, UnicodeDecodeError) as exc:
            return self._refuse(f"could not read {path}: {exc}.")
        return self.loads(text, source=str(path))

    def refresh(self) -> list:
        """Re-list the ``.json`` files of the scenarios folder in the menu; returns the names."""
        folder = Path(self.directory)
        names = sorted(p.stem for p in folder.glob("*.json")
                       if safe_name(p.stem) == p.stem) if folder.is_dir() else []
        keep = self._files.value
        self._files.options = names
        self._files.value = keep if keep in names else (names[0] if names else None)
        return names

    # -- internals ------------------------------------------------------------------------
    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        item = files[-1]
        source = safe_name(item.get("name", "")) + ".json"
        raw = bytes(item.get("content", b""))
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            self._refuse(f"{source} is not a text (UTF-8) file.")
        else:
            self.loads(text, source=source)
        self._upload.value = ()                  # so the same file can be uploaded again

    def _follow(self, change=None) -> None:
        try:
            self.text = self.dumps()
        except ValueError as exc:                # a non-finite value cannot be written as JSON
            self._refuse(f"the current state cannot be written as JSON: {exc}.", "Not saved")
            return
        data = base64.b64encode(self.text.encode()).decode()
        stem = safe_name(self._name.value) or type(self.component).__name__.lower()
        self._download.value = (
            f'<a download="{stem}.json" href="data:application/json;base64,{data}" '
            f'style="color: var(--jp-content-link-color);">Download {stem}.json</a>')

    def _report(self, message: str) -> bool:
        self.set_trait("status", message)
        self._status_box.value = (f'<div role="status" aria-live="polite" style="{_ui._TEXT}">'
                                  f"{html.escape(message)}</div>")
        return True

    def _refuse(self, reason: str, prefix: str = "Not loaded") -> bool:
        message = f"{prefix}: {reason}"
        self.set_trait("status", message)
        self._status_box.value = (f'<div role="alert" style="{_ui._ERROR}">'
                                  f"{html.escape(message)}</div>")
        return False
