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
BOM = "\ufeff"               # the byte-order mark some editors put first
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
    another component, bad JSON (also nested too deeply to read, or too large to be a scenario),
    unknown settings or values the component rejects are refused with a short message in the
    bar (at most 300 characters, long values elided), and the component keeps its state. A
    leading byte-order mark (Windows editors write one) is accepted from a file, an upload or
    pasted text alike.

    Parameters
    ----------
    component : widgets._ui.Component
        Anything with ``get_state_dict()``, ``set_state_dict(state) -> bool`` and ``problem``
        (every component in :mod:`widgets`).
    directory : str, default "scenarios"
        Folder for saved files, relative to the kernel's working directory (the notebook's).

    Attributes
    ----------
    text : str
        Input and output: the scenario JSON, shown in the "Scenario JSON" box; it follows the
        component, and "Load from text" applies what is typed there.
    directory : str
        Input: where :meth:`save` / :meth:`load` write and read.
    last_saved_path : str
        Output: path of the last file written.
    status : str
        Output: the last message shown in the bar ("Loaded ...", "Not loaded: ...").
    controls : dict
        The bar's controls by name (``"name"``, ``"save"``, ``"files"``, ``"load"``,
        ``"refresh"``, ``"text"``, ``"load_text"``, ``"upload"``).

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
    >>> bar.loads("[" * 20_000 + "]" * 20_000)
    False
    >>> bar.status
    'Not loaded: text is nested too deeply to be a scenario.'
    """

    text = T.Unicode("", help="The scenario as JSON; follows the component.")
    directory = T.Unicode("scenarios", help="Folder for saved scenario files.")
    last_saved_path = T.Unicode("", read_only=True, help="Path of the last file written.")
    status = T.Unicode("", read_only=True, help="The last message shown in the bar.")

    def __init__(self, component, directory: str = "scenarios", **kwargs):
        for need in ("get_state_dict", "set_state_dict", "problem"):
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
        inputs = list(component.get_state_dict())
        if inputs:
            component.observe(self._follow, names=inputs)
        self._follow()
        self.refresh()

    @property
    def controls(self) -> dict:
        """The bar's controls by name (see Attributes)."""
        return {"name": self._name, "save": self._save, "files": self._files,
                "load": self._load, "refresh": self._refresh, "text": self._text,
                "load_text": self._load_text, "upload": self._upload}

    def __setattr__(self, name, value):
        # A wrong type assigned in a cell (``bar.directory = 5``) is a message, not a traceback.
        if name in ("text", "directory") and "_status_box" in self.__dict__:
            try:
                super().__setattr__(name, value)
            except (T.TraitError, RecursionError) as exc:
                self._refuse(_ui.readable(exc), "Not changed")
            return
        super().__setattr__(name, value)

    # -- string ---------------------------------------------------------------------------
    def dumps(self) -> str:
        """The component's current inputs as scenario JSON."""
        payload = {"component": type(self.component).__name__, "version": FORMAT_VERSION,
                   "state": display_floats(self.component.get_state_dict())}
        return json.dumps(payload, indent=1, sort_keys=True, allow_nan=False)

    def loads(self, text: str, source: str = "text") -> bool:
        """Apply scenario JSON to the component; False (and a message) if it is refused."""
        if not isinstance(text, str):
            return self._refuse(f"{source} must be JSON text (a str), got "
                                f"{type(text).__name__}.")
        size = len(text.encode("utf-8", "replace"))
        if size > MAX_BYTES:
            return self._refuse(f"{source} is too large to be a scenario file ({size:,} bytes; "
                                f"a scenario is at most {MAX_BYTES:,}).")
        text = text.removeprefix(BOM)          # a byte-order mark (Windows editors) is no content
        try:
            payload = json.loads(text, parse_constant=_no_constants)
        except RecursionError:
            return self._refuse(f"{source} is nested too deeply to be a scenario.")
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
            return self._refuse(f"this scenario is for {_name_of(payload['component'])}, "
                                f"not {mine}.")
        version = payload["version"]
        if isinstance(version, bool) or version != FORMAT_VERSION:
            return self._refuse(f"scenario format version {_ui.short_repr(version)} is not "
                                f"supported (this toolkit reads version {FORMAT_VERSION}).")
        known = list(self.component.get_state_dict())
        unknown = sorted(set(payload["state"]) - set(known))        # JSON keys are strings
        if unknown:
            names = ", ".join(_ui.clip(k, 40) for k in unknown[:5]) + (
                f" and {len(unknown) - 5:,} more" if len(unknown) > 5 else "")
            return self._refuse(f"unknown setting(s) for {mine}: {names}"
                                f" (known: {', '.join(known)}).")
        if not self._apply(payload["state"]):
            return self._refuse(self.component.problem or f"{mine} rejected the scenario.")
        self._follow()
        note = f" {payload['note']}" if payload.get("note") else ""
        return self._report(f"Loaded {source} into {mine}.{note}")

    def _apply(self, state: dict) -> bool:
        """``component.set_state_dict(state)``; an error there (a component that does not hold
        some value itself) puts the old state back and becomes a message."""
        before = self.component.get_state_dict()
        try:
            return bool(self.component.set_state_dict(state))
        except Exception as exc:                          # noqa: BLE001 - shown, not raised
            reason = _ui.readable(exc)
            try:
                self.component.set_state_dict(before)
            except Exception:                             # noqa: BLE001
                reason += " (and the previous state could not be restored)"
            self._refuse(reason)
            return False

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
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return self._refuse(f"there is no saved scenario {path}.")
        except UnicodeDecodeError:
            return self._refuse(f"{path} is not a text (UTF-8) file.")
        except OSError as exc:
            return self._refuse(f"could not read {path}: {exc.strerror or exc}.")
        return self.loads(text, source=str(path))

    def refresh(self) -> list:
        """Re-list the ``.json`` files of the scenarios folder in the menu; returns the names."""
        folder = Path(self.directory)
        try:
            names = sorted(p.stem for p in folder.glob("*.json")
                           if safe_name(p.stem) == p.stem) if folder.is_dir() else []
        except OSError:
            names = []
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
        source = (safe_name(item.get("name", "")) or "upload") + ".json"
        raw = bytes(item.get("content", b""))
        if len(raw) > MAX_BYTES:
            self._refuse(f"{source} is too large to be a scenario file.")
        else:
            try:
                text = raw.decode("utf-8")
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
        message = _ui.clip(message, _ui.MAX_MESSAGE)
        self.set_trait("status", message)
        self._status_box.value = (f'<div role="status" aria-live="polite" style="{_ui._TEXT}">'
                                  f"{html.escape(message)}</div>")
        return True

    def _refuse(self, reason: str, prefix: str = "Not loaded") -> bool:
        message = _ui.clip(f"{prefix}: {reason}", _ui.MAX_MESSAGE)
        self.set_trait("status", message)
        self._status_box.value = (f'<div role="alert" style="{_ui._ERROR}">'
                                  f"{html.escape(message)}</div>")
        return False


def _name_of(component) -> str:
    """A component name from a file, safe to show: a short string, else its short repr."""
    return _ui.clip(component, 60) if isinstance(component, str) else _ui.short_repr(component)
