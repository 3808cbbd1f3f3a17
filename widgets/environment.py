"""check_environment: do the kernel's widget libraries and the browser's widget code match?

The classic symptom of a mismatch is a cell that prints "Error displaying widget: model not
found" (or nothing at all) instead of a chart: the kernel's ipywidgets asks the browser for widget
models of one version (ipywidgets 8 asks for ``@jupyter-widgets/controls`` 2.0.0) and the
browser's extension only knows another (the ipywidgets 7 extension knows 1.x). The browser code
comes from the *JupyterLab server's* environment (the ``jupyterlab_widgets`` and ``bqplot``
packages install it under ``share/jupyter/labextensions``), the kernel code from the kernel's
environment, so the two can drift apart.

A check that cannot be made (a version that cannot be read, a range that cannot be parsed) is
reported as *unknown*, never as OK: ``EnvironmentReport.status`` is ``"OK"``, ``"PROBLEM"`` or
``"UNKNOWN"`` and ``ok`` is True only for ``"OK"``. npm version ranges (``^0.13.1``,
``^4 || ^5``) are matched by ``node-semver`` (PyPI; a port of npm's own ``semver``).

This module reads only installed metadata (``importlib.metadata``, the extensions'
``package.json`` and the version constants in their JavaScript bundles); it imports no widget
library at import time and never fails outside Jupyter, so it can diagnose a broken install.
"""
from __future__ import annotations

import html
import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path

KERNEL_PACKAGES = ("ipywidgets", "jupyterlab_widgets", "bqplot", "bqscales", "traitlets",
                   "numpy", "ipykernel")
FRONTEND_PACKAGES = ("jupyterlab", "notebook", "voila")
WIDGETS_EXT = "@jupyter-widgets/jupyterlab-manager"
BQPLOT_EXT = "bqplot"
# Widget model versions registered by the browser bundle: the version constants, and literal
# registrations such as registerWidget({name: "@jupyter-widgets/controls", version: "2.0.0"})
# (not the npm versions of webpack's shared-module table, which look alike).
_MODEL_VERSION = re.compile(
    r'JUPYTER_(WIDGETS|CONTROLS)_VERSION\W{1,24}?["\'](\d+\.\d+\.\d+)["\']'
    r'|registerWidget\W{1,4}name\W{1,4}["\']@jupyter-widgets/(base|controls)["\']\W{1,4}'
    r'version\W{1,4}["\'](\d+\.\d+\.\d+)["\']')


@dataclass
class EnvironmentReport:
    """Findings of :func:`check_environment`.

    ``ok`` is True only when every check was made and passed; ``problems`` lists what would stop
    widgets displaying, ``unknown`` the checks that could not be made (never counted as OK).
    """

    ok: bool
    python: str
    kernel: dict                 # {package: version or None}, kernel side
    frontend: str                # the front end in use, as far as the kernel can tell
    frontend_kind: str           # "jupyter", "voila", "vscode", "colab", "ipython" or "python"
    extensions: dict             # {npm name: {"version", "path", "expected", "ok", ...}}
    problems: list = field(default_factory=list)
    fix: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    unknown: list = field(default_factory=list)

    @property
    def status(self) -> str:
        """``"PROBLEM"`` (something is wrong), ``"UNKNOWN"`` (a check could not be made) or
        ``"OK"``."""
        return "PROBLEM" if self.problems else ("UNKNOWN" if self.unknown else "OK")

    def to_dict(self) -> dict:
        return asdict(self)

    def text(self) -> str:
        lines = [f"Widget environment: {self.status}",
                 f"  Python {self.python}; front end: {self.frontend}"]
        lines += [f"  {name} {version or 'not installed'}" for name, version in self.kernel.items()]
        for name, ext in self.extensions.items():
            lines.append(f"  front-end extension {name} {ext.get('version') or 'not found'}"
                         f" (expected {ext.get('expected') or 'any'}): "
                         f"{_verdict(ext.get('ok'))}")
        lines += [f"Problem: {p}" for p in self.problems]
        lines += [f"Could not check: {u}" for u in self.unknown]
        if self.fix:
            lines.append("How to fix it:")
            lines += [f"  {i}. {step}" for i, step in enumerate(self.fix, start=1)]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        cell = 'style="padding: 2px 8px; border-bottom: 1px solid var(--jp-border-color2);"'
        rows = [("Python", self.python, ""), ("Front end", self.frontend, "")]
        rows += [(n, v or "not installed", "kernel") for n, v in self.kernel.items()]
        rows += [(n, e.get("version") or "not found",
                  f"expected {e.get('expected') or 'any'}: "
                  + {"OK": "✓ OK", "MISMATCH": "✗ mismatch"}.get(_verdict(e.get("ok")),
                                                               "? not checked"))
                 for n, e in self.extensions.items()]
        table = "".join(f"<tr><td {cell}>{html.escape(a)}</td><td {cell}>{html.escape(b)}</td>"
                        f"<td {cell}>{html.escape(c)}</td></tr>" for a, b, c in rows)
        items = lambda xs, tag: (f"<{tag}>" + "".join(f"<li>{html.escape(x)}</li>" for x in xs)
                                 + f"</{tag}>") if xs else ""
        head, colour = {
            "OK": ("✓ Widgets should display: kernel and browser code match.", "success"),
            "PROBLEM": ("✗ Widgets may not display (\"Error displaying widget: model not "
                        "found\").", "error"),
            "UNKNOWN": ("? Some checks could not be made, so this is not a clean bill of "
                        "health (see below).", "warn"),
        }[self.status]
        return (f'<div role="status" style="color: var(--jp-ui-font-color1); '
                f'font-size: var(--jp-ui-font-size1); border-left: 4px solid '
                f'var(--jp-{colour}-color1); padding-left: 8px;">'
                f"<p><b>{html.escape(head)}</b></p><table>{table}</table>"
                + items(self.problems, "ul")
                + (f"<p><b>Could not check</b></p>{items(self.unknown, 'ul')}"
                   if self.unknown else "")
                + (f"<p><b>How to fix it</b></p>{items(self.fix, 'ol')}" if self.fix else "")
                + (f'<div style="color: var(--jp-ui-font-color2);">{items(self.notes, "ul")}'
                   "</div>" if self.notes else "") + "</div>")


def _verdict(ok) -> str:
    """An extension's ``ok``: True -> "OK", False -> "MISMATCH", None (not checked) ->
    "UNKNOWN"."""
    return "UNKNOWN" if ok is None else ("OK" if ok else "MISMATCH")


# -- readers (small, so tests can replace them) --------------------------------------------
def kernel_versions() -> dict:
    """Installed versions of the kernel-side packages (None when not installed)."""
    out = {}
    for name in KERNEL_PACKAGES + FRONTEND_PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def labextension_paths() -> list:
    """Folders JupyterLab searches for prebuilt extensions, first match wins (as in JupyterLab)."""
    paths = []
    try:
        from jupyter_core.paths import jupyter_path
        paths = [Path(p) for p in jupyter_path("labextensions")]
    except Exception:                                   # jupyter_core missing or broken
        pass
    own = Path(sys.prefix) / "share" / "jupyter" / "labextensions"
    return paths + ([own] if own not in paths else [])


def read_labextension(name: str) -> dict | None:
    """The installed front-end extension ``name``: version, folder, model versions, copies.

    Returns None when no folder holds it. ``copies`` lists every (folder, version) found: the
    first is the one JupyterLab loads, later ones are shadowed.
    """
    copies = []
    for root in labextension_paths():
        pkg = root / name / "package.json"
        try:
            data = json.loads(pkg.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        copies.append({"path": str(pkg.parent), "version": str(data.get("version", "?")),
                       "dependencies": data.get("dependencies", {})})
    if not copies:
        return None
    first = dict(copies[0])
    first["copies"] = [(c["path"], c["version"]) for c in copies]
    first["models"] = _bundle_model_versions(Path(first["path"]))
    return first


def _bundle_model_versions(folder: Path) -> dict:
    """{"base": {...}, "controls": {...}}: widget model versions the browser code registers."""
    found = {"base": set(), "controls": set()}
    for js in sorted((folder / "static").glob("*.js"))[:200]:
        try:
            text = js.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for const, v1, module, v2 in _MODEL_VERSION.findall(text):
            kind = "base" if (const == "WIDGETS" or module == "base") else "controls"
            found[kind].add(v1 or v2)
    return {k: sorted(v) for k, v in found.items()}


def _ipywidgets_protocol() -> dict:
    try:
        from ipywidgets import _version as v
        return {"base": v.__jupyter_widgets_base_version__,
                "controls": v.__jupyter_widgets_controls_version__}
    except Exception:
        return {}


def _bqplot_frontend_range() -> str | None:
    try:
        from bqplot import _version
        return str(_version.__frontend_version__)
    except Exception:
        return None


def _required_spec(package: str, dependency: str) -> str | None:
    """The version specifier ``package`` declares for ``dependency`` (e.g. '~=3.0.17')."""
    try:
        reqs = metadata.requires(package) or []
    except metadata.PackageNotFoundError:
        return None
    for req in reqs:
        name = re.escape(dependency).replace("_", "[-_.]").replace("\\-", "[-_.]")
        m = re.match(rf"\s*{name}(?![\w.-])\s*(\[[^]]*\])?\s*([^;]*)", req, re.IGNORECASE)
        if m and ";" not in req:
            return m.group(2).strip().strip("()") or None
    return None


def detect_frontend(environ=None) -> tuple:
    """(kind, description) of the front end, inferred from environment variables."""
    env = os.environ if environ is None else environ
    keys = set(env)
    has = lambda prefix: any(k.startswith(prefix) for k in keys)
    where = ""
    if has("BINDER_"):
        where = " on Binder"
    elif has("JUPYTERHUB_"):
        where = " on JupyterHub"
    if has("VOILA_"):
        return "voila", "Voilà" + where
    if "google.colab" in sys.modules or has("COLAB_"):
        return "colab", "Google Colab"
    server = "JPY_SESSION_NAME" in keys           # set by jupyter_server for its kernels
    if has("VSCODE_") and not server:              # (a server started in VS Code's terminal
        return "vscode", "VS Code (its own notebook and widget renderer)"   # inherits VSCODE_*)
    if server or "JPY_PARENT_PID" in keys or where:
        return "jupyter", "a Jupyter server (JupyterLab or Notebook 7)" + where
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        return "jupyter", "a Jupyter kernel (front end not identified)"
    if shell is not None:
        return "ipython", "terminal IPython (no widget front end)"
    return "python", "plain Python, not a Jupyter kernel (widgets cannot display here)"


# -- npm-style version ranges ---------------------------------------------------------------
def satisfies(version: str, spec: str) -> bool | None:
    """Does ``version`` match the npm range ``spec``? None when either cannot be parsed.

    Matching is npm's own semantics (``^``, ``~``, ``x`` ranges, hyphen ranges, ``||``,
    prereleases) through ``node-semver``, a port of npm's ``semver`` package. A version or range
    that does not parse answers None ("cannot tell"), never True.

    >>> satisfies("0.6.1", "^0.6.1"), satisfies("0.7.0", "^0.6.1"), satisfies("5.0.16", "^4 || ^5")
    (True, False, True)
    >>> satisfies("0.13.1", "this is not a range"), satisfies("?", "^0.13")
    (None, None)
    """
    try:
        import nodesemver
    except ImportError:                      # a broken install: cannot tell, never "OK"
        return None
    try:
        if nodesemver.valid(str(version), False) is None or \
                nodesemver.valid_range(str(spec), False) is None:
            return None
        return bool(nodesemver.satisfies(str(version), str(spec), False))
    except (ValueError, TypeError):
        return None


# -- the check ------------------------------------------------------------------------------
def check_environment(display: bool = True) -> EnvironmentReport:
    """Report kernel-side widget versions, the front end, its extensions and how to fix a mismatch.

    Parameters
    ----------
    display : bool, default True
        Show the summary: as HTML in a Jupyter kernel, as text elsewhere. End the cell with
        ``;`` (or assign the result) so the notebook does not show the report twice.

    Returns
    -------
    EnvironmentReport
        ``ok`` is False when the browser's widget code cannot display this kernel's widgets;
        ``problems`` says why and ``fix`` lists the steps to repair it.

    Examples
    --------
    >>> report = check_environment(display=False)
    >>> report.kernel["ipywidgets"].split(".")[0]
    '8'
    """
    kv = kernel_versions()
    kernel = {k: kv[k] for k in ("ipywidgets", "jupyterlab_widgets", "bqplot", "traitlets",
                                 "numpy")}
    kind, frontend = detect_frontend()
    if kv.get("jupyterlab"):
        frontend += f"; JupyterLab {kv['jupyterlab']} is installed in this kernel's environment"
    problems, notes, extensions, unknown = [], [], {}, []
    lab_in_env = bool(kv.get("jupyterlab") or kv.get("notebook") or kv.get("voila"))

    if not kv["ipywidgets"]:
        problems.append("ipywidgets is not installed in this kernel's environment.")
    spec = _required_spec("ipywidgets", "jupyterlab_widgets")
    if kv["ipywidgets"] and kv["jupyterlab_widgets"] and spec:
        pairs = _pep440_ok(kv["jupyterlab_widgets"], spec)
        if pairs is None:
            unknown.append(f"ipywidgets asks for jupyterlab_widgets{spec}, which cannot be "
                           f"compared with the installed {kv['jupyterlab_widgets']}.")
        elif not pairs:
            problems.append(f"ipywidgets {kv['ipywidgets']} needs jupyterlab_widgets{spec}, "
                            f"but jupyterlab_widgets {kv['jupyterlab_widgets']} is installed.")

    ext_problems, ext_unknown = [], []
    extensions[WIDGETS_EXT] = _check_widgets_ext(kv, lab_in_env, ext_problems, ext_unknown)
    extensions[BQPLOT_EXT] = _check_bqplot_ext(kv, lab_in_env, ext_problems, ext_unknown)
    if kind in _HOSTED_NOTES:            # these front ends bring their own widget code
        notes.append(_HOSTED_NOTES[kind])
        notes += [f"Only matters in JupyterLab or Voilà: {p}"
                  for p in ext_problems + ext_unknown]
    else:
        problems += ext_problems
        unknown += ext_unknown
        if not lab_in_env:
            notes.append("JupyterLab is not installed in this kernel's environment, so the "
                         "server (and the browser code it serves) runs elsewhere and the "
                         "extensions listed here may not be the ones your browser loads: run "
                         "`jupyter labextension list` in the server's environment.")
    if unknown:
        notes.append("`jupyter labextension list`, run where JupyterLab runs, shows the "
                     "extensions and whether JupyterLab itself finds them OK.")
    report = EnvironmentReport(
        ok=not problems and not unknown, python=sys.version.split()[0], kernel=kernel,
        frontend=frontend, frontend_kind=kind, extensions=extensions, problems=problems,
        fix=_fix_steps(kv, spec) if problems else [], notes=notes, unknown=unknown)
    if display:
        _display(report)
    return report


def _check_widgets_ext(kv, lab_in_env, problems, unknown) -> dict:
    ext = read_labextension(WIDGETS_EXT)
    need = _ipywidgets_protocol()
    info = {"version": ext and ext["version"], "path": ext and ext["path"], "ok": True,
            "expected": " and ".join(f"{k} models {v}" for k, v in need.items()) or None}
    if ext is None:
        if lab_in_env and kv["ipywidgets"]:
            info["ok"] = False
            problems.append(f"The browser-side widget extension ({WIDGETS_EXT}, installed by "
                            "the jupyterlab_widgets package) is missing.")
        return info
    if kv["ipywidgets"]:
        unread = ([f"the widget model versions ipywidgets {kv['ipywidgets']} asks for"]
                  if not need else [])
        unread += [f"the {kind} widget model versions in the browser bundle {ext['path']}"
                   for kind in need if not ext["models"].get(kind)]
        if unread:                                # an unreadable version proves nothing
            info["ok"] = None
            unknown.append(f"could not read {' or '.join(unread)}, so whether the browser "
                           f"extension {WIDGETS_EXT} {ext['version']} matches is unknown.")
    missing = [(kind, wanted, ext["models"][kind]) for kind, wanted in need.items()
               if ext["models"].get(kind)
               and not any(h.split(".")[0] == wanted.split(".")[0] for h in ext["models"][kind])]
    if missing:
        info["ok"] = False
        problems.append(
            f"ipywidgets {kv['ipywidgets']} in the kernel uses "
            + " and ".join(f"{k} widget models {w}" for k, w, _ in missing)
            + f", but the browser extension {WIDGETS_EXT} {ext['version']} provides "
            + " and ".join(f"{k} {', '.join(h)}" for k, _, h in missing)
            + ': widgets show "Error displaying widget: model not found".')
    _check_shadowing(WIDGETS_EXT, ext, info, problems)
    return info


def _check_bqplot_ext(kv, lab_in_env, problems, unknown) -> dict:
    ext = read_labextension(BQPLOT_EXT)
    wanted = _bqplot_frontend_range() if kv["bqplot"] else None
    info = {"version": ext and ext["version"], "path": ext and ext["path"],
            "expected": wanted, "ok": True}
    if ext is None:
        if lab_in_env and kv["bqplot"]:
            info["ok"] = False
            problems.append(f"bqplot {kv['bqplot']} is installed but its browser extension is "
                            "missing, so charts cannot display.")
        return info
    match = satisfies(ext["version"], wanted) if wanted else None
    if kv["bqplot"] and match is None:
        info["ok"] = None
        unknown.append(f"could not compare the bqplot browser extension {ext['version']} with "
                       f"the range bqplot {kv['bqplot']} expects ({wanted or 'unreadable'}).")
    elif match is False:
        info["ok"] = False
        problems.append(f"bqplot {kv['bqplot']} in the kernel expects the bqplot browser "
                        f"extension {wanted}, but {ext['version']} is installed: charts show "
                        "\"model not found\" or stay blank.")
    scales = ext.get("dependencies", {}).get("bqscales")
    dep = read_labextension("bqscales") if scales else None
    dep_match = satisfies(dep["version"], scales) if dep is not None else True
    if dep_match is None:
        info["ok"] = None if info["ok"] else info["ok"]
        unknown.append(f"could not compare bqscales {dep['version']} with the range {scales} "
                       "the bqplot browser extension asks for.")
    elif not dep_match:
        info["ok"] = False
        problems.append(f"The bqplot browser extension needs bqscales {scales}, but "
                        f"{dep['version']} is installed.")
    _check_shadowing(BQPLOT_EXT, ext, info, problems)
    return info


def _check_shadowing(name, ext, info, problems) -> None:
    versions = {v for _, v in ext["copies"]}
    if len(versions) > 1:
        info["ok"] = False
        stale = "; ".join(f"{p} ({v})" for p, v in ext["copies"][1:])
        problems.append(f"Several copies of {name} are installed; JupyterLab loads the first, "
                        f"{ext['path']} ({ext['version']}), and ignores {stale}. Remove the "
                        "copy you do not want (pip uninstall in that environment, or delete a "
                        "leftover folder under ~/.local/share/jupyter/labextensions).")


def _pep440_ok(version: str, spec: str) -> bool | None:
    """PEP 440 match; None ("cannot tell", never True) when either does not parse."""
    try:
        from packaging.specifiers import InvalidSpecifier, SpecifierSet
        from packaging.version import InvalidVersion, Version
    except ImportError:                                 # packaging missing: cannot tell
        return None
    try:
        return SpecifierSet(spec).contains(Version(version), prereleases=True)
    except (InvalidSpecifier, InvalidVersion, TypeError):
        return None


def _fix_steps(kv, spec) -> list:
    pins = " ".join(f'"{p}=={kv[p]}"' for p in ("ipywidgets", "bqplot") if kv.get(p))
    pins = pins or '"ipywidgets>=8.1,<9" "bqplot>=0.13,<0.14"'
    lab_pin = f'"jupyterlab_widgets{spec}"' if spec else '"jupyterlab_widgets"'
    return [
        "Find the environment that runs JupyterLab: in the terminal where you start it, run "
        "`python -m pip show jupyterlab` (or `jupyter --paths`).",
        f"In that SAME environment install the matching set: `python -m pip install {pins} "
        f"{lab_pin}` (with conda: `conda install -c conda-forge` and the same names). If the "
        "kernel runs in another environment, install the same ipywidgets and bqplot there too.",
        "Restart the JupyterLab server: stop it (File > Shut Down, or Ctrl+C in its terminal) "
        "and start it again. Restarting only the kernel is not enough.",
        "Hard-refresh the browser tab (Ctrl+Shift+R; Cmd+Shift+R on a Mac) so it loads the new "
        "widget code, then run this check again.",
        "Do not use `jupyter labextension install`: with JupyterLab 4 the extensions come from "
        "the pip/conda packages, and that old command builds a separate copy that can hide "
        "them. `jupyter labextension list` should show @jupyter-widgets/jupyterlab-manager and "
        "bqplot as enabled and OK.",
    ]


_HOSTED_NOTES = {
    "colab": "Colab loads widget code itself: run `from google.colab import output; "
             "output.enable_custom_widget_manager()` once so bqplot charts display.",
    "vscode": "VS Code renders widgets with its own code: keep the Jupyter extension up to date; "
              "if a bqplot chart stays blank, allow widget scripts from a CDN (setting "
              "`jupyter.widgetScriptSources`: [\"jsdelivr.com\", \"unpkg.com\"]).",
}


def _display(report: EnvironmentReport) -> None:
    shell = getattr(sys.modules.get("IPython"), "get_ipython", lambda: None)()
    if shell is not None and getattr(shell, "kernel", None) is not None:
        from IPython.display import HTML, display
        display(HTML(report._repr_html_()))
    else:
        print(report.text())
