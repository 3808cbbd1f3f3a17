"""Shared machinery of the browser tier and the browser benchmark (no pytest imports).

* :func:`start_lab` / :func:`start_voila` start a JupyterLab or Voilà server from the installed
  project (``sys.executable -m ...``) on 127.0.0.1, a free port, a random token, isolated Jupyter
  config / data / runtime / settings / workspace directories, in a directory that is a *copy* of
  ``lessons/`` (a run never writes into the repository). The server is stopped through its own
  process (terminate, then kill); its log goes to ``tests/browser/artifacts/``.
* :func:`launch_chromium` starts the system Chromium (``/usr/bin/chromium``) through Playwright;
  no browser is ever downloaded.
* :class:`LabPage` drives one notebook in JupyterLab: open, Run All, wait for the kernel, collect
  errors, switch theme, screenshot.
* The ``JS_*`` snippets find components, figures, sliders and summaries in the DOM; the tests
  and ``tests/benchmarks/bench_browser.py`` use the same ones.
"""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LESSONS = REPO / "lessons"
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
# Debian's chromium package; CML_CHROMIUM points elsewhere (another Chromium or Chrome build).
CHROMIUM = os.environ.get("CML_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",          # containers often give /dev/shm only 64 MB
    "--no-proxy-server",                # loopback only: never through an http_proxy
    # Only the local servers are reachable: any other host name fails at once (Voilà's page
    # asks a CDN for MathJax, for instance), so a run never waits on or talks to the network.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
VIEWPORT = {"width": 1400, "height": 1000}
LIGHT, DARK = "JupyterLab Light", "JupyterLab Dark"

SERVER_START_TIMEOUT = 90.0       # s, until /api/status (Lab) or the page (Voilà) answers
KERNEL_TIMEOUT_MS = 180_000       # Run All of one notebook, kernel start included
UI_TIMEOUT_MS = 60_000            # JupyterLab shell, notebook panel, theme switch
CHANGE_TIMEOUT_MS = 20_000        # a key press / click until the chart or summary changes

# Talk to our own servers directly, whatever http_proxy / https_proxy say.
_LOCAL = urllib.request.build_opener(urllib.request.ProxyHandler({}))




def lesson_notebooks() -> list[Path]:
    """Every notebook in ``lessons/`` (``NN_*.ipynb`` and pages such as the closing page): new
    lessons are picked up without touching the tests."""
    return sorted(LESSONS.glob("*.ipynb"))


def app_notebooks() -> list[Path]:
    return sorted((LESSONS / "apps").glob("*.ipynb"))


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_lessons(dest: Path) -> Path:
    """A throw-away copy of ``lessons/`` (no checkpoints), the servers' root directory."""
    shutil.copytree(LESSONS, dest, ignore=shutil.ignore_patterns(".ipynb_checkpoints",
                                                                 "__pycache__"))
    return dest


def isolated_env(home: Path) -> dict:
    """Environment with every Jupyter / IPython user directory under ``home``.

    Kernels come from the installed project: with no user kernelspec, ``python3`` is ipykernel's
    native spec, i.e. ``sys.executable``.
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("JUPYTER", "JPY_", "IPYTHON"))}
    dirs = {"JUPYTER_CONFIG_DIR": "config", "JUPYTER_DATA_DIR": "data",
            "JUPYTER_RUNTIME_DIR": "runtime", "JUPYTERLAB_SETTINGS_DIR": "lab-settings",
            "JUPYTERLAB_WORKSPACES_DIR": "lab-workspaces", "IPYTHONDIR": "ipython"}
    for var, name in dirs.items():
        (home / name).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / name)
    env["JUPYTER_PLATFORM_DIRS"] = "1"       # silence jupyter_core's migration notice
    # Self-checks answered by the tests record progress here, never in the user's own file.
    env["CML_PROGRESS_FILE"] = str(home / "progress.json")
    env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    # Quiet, deterministic Lab: no news / update toasts over the screenshots.
    settings = home / "lab-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8")
    return env


@dataclass
class Server:
    """A server process we started; :meth:`stop` ends exactly this process."""

    name: str
    proc: subprocess.Popen
    url: str
    token: str
    root: Path
    log_path: Path
    _log_file: object = field(repr=False, default=None)

    def log_tail(self, n: int = 60) -> str:
        try:
            lines = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])

    def api(self, method: str, path: str):
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with _LOCAL.open(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else None

    def shutdown_sessions(self) -> None:
        """End every kernel session (so notebooks of earlier tests do not pile up kernels)."""
        for session in self.api("GET", "/api/sessions"):
            self.api("DELETE", f"/api/sessions/{session['id']}")

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()                  # SIGTERM: Jupyter shuts its kernels down
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=timeout)
        if self._log_file is not None:
            self._log_file.close()


def _spawn(name: str, cmd: list[str], cwd: Path, env: dict, log_path: Path) -> tuple:
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 -- closed by Server.stop
    log.write("$ " + " ".join(cmd) + "\n")
    log.flush()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    return proc, log


def _wait_http(server: Server, path: str, timeout: float) -> None:
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise RuntimeError(f"{server.name} exited with status {server.proc.returncode}:\n"
                               f"{server.log_tail()}")
        try:
            with _LOCAL.open(server.url + path, timeout=5) as r:
                if r.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError) as exc:
            last = exc
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"{server.name} did not answer {path} within {timeout:.0f} s "
                       f"({last}):\n{server.log_tail()}")


def start_lab(root: Path, home: Path, log_path: Path) -> Server:
    """JupyterLab serving ``root`` on 127.0.0.1, a free port and a random token."""
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
           # window.jupyterapp: the tests run Lab commands (Run All, theme) through it
           "--LabApp.expose_app_in_browser=True",
           "--LabApp.news_url=None",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
           "--LabApp.extension_manager=readonly"]       # never asks PyPI for extensions
    if hasattr(os, "geteuid") and os.geteuid() == 0:     # CI containers run as root
        cmd.append("--allow-root")
    proc, log = _spawn("JupyterLab", cmd, root, isolated_env(home), log_path)
    server = Server("JupyterLab", proc, f"http://127.0.0.1:{port}", token, root, log_path, log)
    _wait_http(server, f"/api/status?token={token}", SERVER_START_TIMEOUT)
    return server


def start_voila(notebook: Path, home: Path, log_path: Path, theme: str = "light") -> Server:
    """Voilà serving one notebook on 127.0.0.1 and a free port (token-less, loopback only)."""
    port = free_port()
    cmd = [sys.executable, "-m", "voila", notebook.name, "--no-browser",
           "--Voila.ip=127.0.0.1", f"--Voila.port={port}", "--Voila.port_retries=0",
           f"--theme={theme}", "--show_tracebacks=True"]
    proc, log = _spawn("Voila", cmd, notebook.parent, isolated_env(home), log_path)
    server = Server("Voila", proc, f"http://127.0.0.1:{port}", "", notebook.parent, log_path,
                    log)
    # Voilà's own static file: answers as soon as the server listens, runs no kernel.
    _wait_http(server, "/voila/static/voila.js", SERVER_START_TIMEOUT)
    return server


def launch_chromium(playwright):
    """The system Chromium through Playwright (``executable_path``; nothing is downloaded)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                      args=CHROMIUM_ARGS)


# --------------------------------------------------------------------------------------------
# DOM helpers shared by the JupyterLab and Voilà tests and the benchmark.
# A "component" is a Cross-Margin Lab widget (class ``cml-component``); we pick the outermost
# one around an element that also holds a bqplot figure.
# --------------------------------------------------------------------------------------------

JS_LIB = r"""
(() => {
  if (window.__cml) return;
  // slider handles: ipywidgets' noUiSlider handle, or our labelled range input (_controls)
  const SLIDERS = '.widget-slider .noUi-handle, .cml-slider input[type=range]';
  const visible = (el) => !!(el && el.offsetParent !== null &&
                             el.getBoundingClientRect().width > 0);
  const componentOf = (el) => {
    let best = null;
    for (let c = el.closest('.cml-component'); c; c = c.parentElement.closest('.cml-component'))
      if (c.querySelector('.bqplot')) best = c;
    return best;
  };
  // bqplot 0.13 draws the marks in svg.svg-figure, one clipped <g> per mark (axes live in a
  // separate svg.svg-background); a mark's shapes are bars, line paths, dots, cells, labels.
  const markGroups = (fig) => fig.querySelectorAll('svg.svg-figure g[clip-path]');
  const drawn = (s) => {
    if (s.tagName === 'path') { const d = s.getAttribute('d') || '';
                                 return d.length > 2 && !/NaN/.test(d); }
    if (s.tagName === 'rect') return s.getBoundingClientRect().width > 0 &&
                                     s.getBoundingClientRect().height > 0;
    if (s.tagName === 'text') return (s.textContent || '').trim().length > 0 &&
                                     s.getAttribute('display') !== 'none';
    return s.getBoundingClientRect().width > 0;
  };
  const figureState = (fig) => {
    const svg = fig.querySelector('svg.svg-figure');
    const shapes = [];
    for (const g of markGroups(fig))
      for (const s of g.querySelectorAll('path, rect, circle, line, text, polygon'))
        if (!s.classList.contains('zeroLine') && drawn(s)) shapes.push(s);
    return {
      title: (fig.querySelector('.mainheading') || {}).textContent || '',
      width: svg ? svg.getBoundingClientRect().width : 0,
      height: svg ? svg.getBoundingClientRect().height : 0,
      marks: markGroups(fig).length,
      shapes: shapes.length,
    };
  };
  const svgSignature = (comp) => Array.from(comp.querySelectorAll('.bqplot svg.svg-figure'))
      .map((s) => s.innerHTML).join('|');
  const statusText = (comp) => Array.from(comp.querySelectorAll('[role=status]'))
      .map((s) => s.textContent).join('|');
  // -- contrast (WCAG 2 relative luminance) of chart and widget text against what is behind it
  const rgba = (s) => { const m = (s || '').match(/rgba?\(([^)]+)\)/);
    if (!m) return null; const v = m[1].split(/[ ,\/]+/).filter(Boolean).map(Number);
    return [v[0], v[1], v[2], v.length > 3 ? v[3] : 1]; };
  const over = (top, bottom) => { const a = top[3];
    return [0, 1, 2].map((i) => top[i] * a + bottom[i] * (1 - a)).concat([1]); };
  const lum = (c) => { const f = (x) => { x /= 255;
      return x <= 0.03928 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]); };
  const contrast = (a, b) => { const [x, y] = [lum(a), lum(b)].sort((p, q) => q - p);
    return (x + 0.05) / (y + 0.05); };
  const htmlBackground = (el) => {
    const layers = [];
    for (let e = el; e && e.nodeType === 1; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c && c[3] > 0) { layers.push(c); if (c[3] >= 0.99) break; }
    }
    let bg = [255, 255, 255, 1];
    for (const c of layers.reverse()) bg = over(c, bg);
    return bg;
  };
  // What is painted behind an SVG text's centre: the figure's filled rects (plot background,
  // bars, heatmap cells, legend box) that come before it in paint (= document) order, over the
  // HTML background behind the figure.
  const svgBackground = (text) => {
    const fig = text.closest('.bqplot'), r = text.getBoundingClientRect();
    const cx = r.left + r.width / 2, cy = r.top + r.height / 2;
    let bg = htmlBackground(fig);
    for (const s of fig.querySelectorAll('svg rect')) {
      if (!(s.compareDocumentPosition(text) & Node.DOCUMENT_POSITION_FOLLOWING)) break;
      if (s.closest('defs')) continue;
      const b = s.getBoundingClientRect(), st = getComputedStyle(s);
      if (b.width === 0 || cx < b.left || cx > b.right || cy < b.top || cy > b.bottom) continue;
      if (st.display === 'none' || st.visibility === 'hidden') continue;
      const c = rgba(st.fill); if (!c) continue;
      c[3] *= +st.fillOpacity * +st.opacity; bg = over(c, bg);
    }
    return bg;
  };
  const textContrast = (root) => {
    const out = [], seen = new Set();
    const add = (el, fg, bg, kind) => {
      const text = (el.textContent || '').trim().slice(0, 60);
      if (!text || !fg) return;
      const ratio = contrast(over(fg, bg), bg);
      const fig = el.closest('.bqplot');
      const where = fig ? ((fig.querySelector('.mainheading') || {}).textContent || 'figure')
                        : 'widget';
      const key = `${where}|${text}|${ratio.toFixed(2)}`;
      if (!seen.has(key)) { seen.add(key); out.push({kind, where, text, ratio,
        fg: `rgb(${fg.slice(0, 3).map(Math.round)})`,
        bg: `rgb(${bg.slice(0, 3).map(Math.round)})`}); }
    };
    for (const t of (root || document).querySelectorAll('.bqplot svg text')) {
      const st = getComputedStyle(t), r = t.getBoundingClientRect();
      if (r.width === 0 || st.display === 'none' || st.visibility === 'hidden' ||
          +st.opacity === 0 || t.closest('[display="none"]')) continue;
      let fg = rgba(st.fill);
      if (!fg) continue;
      fg[3] *= +st.fillOpacity;
      // a halo (stroke painted under the fill) is the text's own background
      const halo = st.paintOrder.startsWith('stroke') && parseFloat(st.strokeWidth) >= 2 &&
                   rgba(st.stroke);
      add(t, fg, halo ? over(halo, svgBackground(t)) : svgBackground(t), 'chart');
    }
    for (const e of (root || document).querySelectorAll(
        '.widget-label, .widget-readout, [role=status], [role=alert], .widget-html-content')) {
      if (!visible(e) || e.querySelector('[role=status], [role=alert]')) continue;
      add(e, rgba(getComputedStyle(e).color), htmlBackground(e), 'widget');
    }
    return out;
  };
  // How many bqplot figure views the displayed widgets should produce: walk the widget models
  // from each displayed root (children, other widget references, Output widgets' outputs).
  const MIME = 'application/vnd.jupyter.widget-view+json';
  const isFigure = (m) => m.get('_model_module') === 'bqplot' &&
                          m.get('_model_name') === 'FigureModel';
  const figuresUnder = (models, id, seen) => {
    const m = models.get(id);
    if (!m || seen.has(id)) return 0;
    seen.add(id);
    let n = isFigure(m) ? 1 : 0;
    for (const v of Object.values(m.attributes || {}))
      for (const x of [].concat(v)) {
        if (x && typeof x === 'object' && x.model_id) n += figuresUnder(models, x.model_id, seen);
        else if (x && x.data && x.data[MIME])
          n += figuresUnder(models, x.data[MIME].model_id, seen);
      }
    return n;
  };
  const expectedFigures = (manager, rootIds) => {
    const models = manager && manager._modelsSync;
    if (!models) return -1;                                   // unknown: internals changed
    if (!rootIds) return Array.from(models.values()).filter(isFigure).length;
    if (rootIds.some((id) => !models.has(id))) return -2;     // a model is still being built
    return rootIds.reduce((n, id) => n + figuresUnder(models, id, new Set()), 0);
  };
  window.__cml = {visible, componentOf, figureState, svgSignature, statusText, textContrast,
    expectedFigures,
    figures: (root) => Array.from((root || document).querySelectorAll('.bqplot.figure')),
    // the notebook's widget manager (JupyterLab) or the app's (Voilà) and its displayed roots
    labExpectedFigures: () => {
      const nb = window.jupyterapp.shell.currentWidget.content;
      const r = nb.rendermime.createRenderer(MIME), ids = [];
      for (const c of nb.model.cells) {
        if (c.type !== 'code') continue;
        for (let j = 0; j < c.outputs.length; j++) {
          const d = c.outputs.get(j).data; if (d && d[MIME]) ids.push(d[MIME].model_id); }
      }
      return ids.length ? expectedFigures(window.__cmlLabManager, ids) : 0;
    },
    // jupyterlab_widgets hands each renderer a promise of the notebook's manager
    resolveLabManager: async () => {
      const nb = window.jupyterapp.shell.currentWidget.content;
      const m = nb.rendermime.createRenderer(MIME)._manager;
      window.__cmlLabManager = m && m.promise ? await m.promise : m;
    },
    voilaExpectedFigures: () => expectedFigures(window.jupyterapp &&
                                                 window.jupyterapp.widgetManager, null),
    // First visible slider handle that sits inside a component with a chart.
    // The n-th visible slider handle that sits inside a component with a chart.
    chartSlider: (n) => {
      const found = Array.from(document.querySelectorAll(SLIDERS))
          .filter(visible).map((h) => [h, componentOf(h)]).filter(([, c]) => c);
      return found[n || 0] || [null, null];
    },
    // What jupyterlab_widgets shows instead of a widget: the renderer's text "Error displaying
    // widget[: model not found]" (a node with no children), or ipywidgets' error view for a
    // child that failed. Lesson text that merely mentions the message does not count.
    widgetErrors: () => {
      const out = [];
      for (const e of document.querySelectorAll('.jp-OutputArea-output, .jupyter-widgets'))
        if (e.childElementCount === 0 &&
            (e.textContent || '').trim().startsWith('Error displaying widget'))
          out.push(e.textContent.trim().slice(0, 200));
      for (const e of document.querySelectorAll('.jupyter-widgets-error-widget'))
        out.push(`widget view error: ${(e.textContent || '').trim().slice(0, 300)}`);
      return out;
    },
    countChartSliders: () => Array.from(document.querySelectorAll(SLIDERS))
        .filter((h) => visible(h) && componentOf(h)).length,
    // Round trip to the kernel: a kernel_info request is answered after the comm messages
    // sent before it (one shell queue), then two frames for the views to draw the updates.
    barrier: async () => {
      const app = window.jupyterapp, wm = app && app.widgetManager;
      const kernel = wm && wm.kernel ? wm.kernel
          : app.shell.currentWidget.sessionContext.session.kernel;
      await kernel.requestKernelInfo();
      await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
    },
    // A "Step" button in a chart component; failing that, the play button of a Play widget.
    firstStepButton: (root) => {
      const buttons = Array.from((root || document).querySelectorAll('button'))
          .filter((b) => visible(b) && b.textContent.trim() === 'Step');
      for (const b of buttons) { const c = componentOf(b); if (c) return [b, c]; }
      const plays = Array.from((root || document).querySelectorAll(
          '.widget-play button, button.cml-play'))
          .filter((b) => visible(b) && b.querySelector('.fa-play'));
      for (const b of plays) { const c = componentOf(b); if (c) return [b, c]; }
      return [null, null];
    },
  };
})();
"""


def chart_report(page) -> list[dict]:
    """One dict per bqplot figure on the page (title, size, marks, drawn shapes)."""
    page.evaluate(JS_LIB)
    return page.evaluate("() => __cml.figures().map(__cml.figureState)")


def undrawn_figures(page) -> list[dict]:
    """Visible figures without a size or without drawn shapes."""
    page.evaluate(JS_LIB)
    return page.evaluate("""() => __cml.figures().filter(__cml.visible).map(__cml.figureState)
        .filter((f) => !(f.width > 0 && f.height > 0 && f.marks > 0 && f.shapes > 0))""")


def mark_target(page, kind: str, index: int = 0) -> dict | None:
    """Tag the ``index``-th chart slider handle (``kind="slider"``) or the first Step button
    (``"step"``) and its component with ``data-cml-target`` / ``data-cml-comp``; return what
    they are (label, number of figures and of ``[role=status]`` summaries)."""
    page.evaluate(JS_LIB)
    return page.evaluate("""([kind, index]) => {
        document.querySelectorAll(`[data-cml-target="${kind}"],[data-cml-comp="${kind}"]`)
            .forEach((e) => { e.removeAttribute('data-cml-target');
                              e.removeAttribute('data-cml-comp'); });
        const [el, comp] = kind === 'slider' ? __cml.chartSlider(index)
                                             : __cml.firstStepButton();
        if (!el) return null;
        el.setAttribute('data-cml-target', kind); comp.setAttribute('data-cml-comp', kind);
        const row = el.closest('.widget-slider, .cml-slider');
        const label = row && row.querySelector('.widget-label, .cml-slider-label');
        return {label: label ? label.textContent : el.textContent.trim(),
                figures: comp.querySelectorAll('.bqplot.figure').length,
                statuses: comp.querySelectorAll('[role=status]').length};
    }""", [kind, index])


def component_state(page, kind: str) -> dict:
    return page.evaluate("""(kind) => {
        const comp = document.querySelector(`[data-cml-comp="${kind}"]`);
        return {svg: __cml.svgSignature(comp), status: __cml.statusText(comp)};
    }""", kind)


def wait_component_change(page, kind: str, before: dict, timeout_ms: int = CHANGE_TIMEOUT_MS,
                          need_status: bool = True) -> dict:
    """Wait until the component's bqplot SVG (and its [role=status] text) differ from
    ``before``; return the new state. Raises playwright's TimeoutError otherwise."""
    page.wait_for_function("""([kind, before, needStatus]) => {
        const comp = document.querySelector(`[data-cml-comp="${kind}"]`);
        if (!comp) return false;
        const svgChanged = __cml.svgSignature(comp) !== before.svg;
        const statusChanged = __cml.statusText(comp) !== before.status;
        return svgChanged && (statusChanged || !needStatus);
    }""", arg=[kind, before, need_status], timeout=timeout_ms, polling=50)
    return component_state(page, kind)


def press_step(page, timeout_ms: int = CHANGE_TIMEOUT_MS) -> tuple[dict, dict] | None:
    """Press the first chart component's "Step" button and wait for its chart and summary to
    change; return (before, after), or None when there is no Step button.

    A stepper that already shows its last step (a Play slider at its maximum next to the
    button) is first sent back with the "Reset" button of the same row, waiting until the
    slider is at its minimum.
    """
    if mark_target(page, "step") is None:
        return None
    rewound = page.evaluate("""() => {
        const b = document.querySelector('[data-cml-target="step"]'), row = b.parentElement;
        const h = row.querySelector('.noUi-handle[role=slider], .cml-slider input[type=range]');
        const reset = Array.from(row.querySelectorAll('button'))
            .find((x) => x.textContent.trim() === 'Reset');
        const at = (k) => +(h.tagName === 'INPUT' ? h[k] : h.getAttribute(`aria-value${k}`));
        if (!h || !reset || (h.tagName === 'INPUT' ? +h.value : at('now')) < at('max'))
            return false;
        if (at('max') <= at('min')) return 'nothing to step';
        h.setAttribute('data-cml-stepper', '1');
        reset.click();
        return true;
    }""")
    if rewound == "nothing to step":
        raise AssertionError("the Step button's slider has a single value: nothing to step")
    if rewound:
        page.wait_for_function("""() => {
            const h = document.querySelector('[data-cml-stepper]');
            if (h.tagName === 'INPUT') return +h.value === +h.min;
            return +h.getAttribute('aria-valuenow') === +h.getAttribute('aria-valuemin'); }""",
            timeout=timeout_ms, polling=50)
    before = component_state(page, "step")
    page.locator('[data-cml-target="step"]').click()
    after = wait_component_change(page, "step", before, timeout_ms)
    page.evaluate("""() => { const b = document.querySelector('[data-cml-target="step"]');
        const stop = b.closest('.widget-play') &&
                     b.closest('.widget-play').querySelector('.fa-stop');
        if (stop) stop.closest('button').click();
        if (b.classList.contains('cml-play') && b.querySelector('.fa-pause')) b.click();
        }""")   # a Play button: stop it again
    return before, after


# WCAG 2 AA for normal text is 4.5:1. Chart text (bqplot SVG: titles, axis labels, ticks, mark
# labels) must reach it: it is small (11-14 px) and what the lesson asks the learner to read.
# Widget text (controls, HTML) fails only below MIN_CONTRAST; weaker than GOOD_CONTRAST is listed.
CHART_TEXT_CONTRAST = 4.5
MIN_CONTRAST = 2.0
GOOD_CONTRAST = 4.5
CONTRAST_KEY = f"contrast (chart < {CHART_TEXT_CONTRAST}:1, widget < {MIN_CONTRAST}:1)"


def unreadable(found: list[dict]) -> list[dict]:
    """The measured texts that fail: chart text under CHART_TEXT_CONTRAST, other text under
    MIN_CONTRAST.

    >>> unreadable([{"kind": "chart", "ratio": 2.3}, {"kind": "chart", "ratio": 4.6},
    ...             {"kind": "widget", "ratio": 3.0}, {"kind": "widget", "ratio": 1.5}])
    [{'kind': 'chart', 'ratio': 2.3}, {'kind': 'widget', 'ratio': 1.5}]
    """
    return [f for f in found if f["ratio"] < (CHART_TEXT_CONTRAST if f["kind"] == "chart"
                                              else MIN_CONTRAST)]


def contrast_report(page, name: str) -> list[str]:
    """Measure every visible chart / widget text; write the ones under GOOD_CONTRAST to
    ``artifacts/<name>-contrast.txt`` and return the failing ones (:func:`unreadable`: chart
    text under 4.5:1, widget text under 2:1)."""
    weak = low_contrast(page, GOOD_CONTRAST)
    lines = [f"{w['ratio']:.2f}:1  {w['kind']}  {w['fg']} on {w['bg']}  in {w['where']!r}: "
             f"{w['text']!r}" for w in weak]
    path = ARTIFACTS / f"{name}-contrast.txt"
    if lines:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif path.exists():
        path.unlink()
    failing = [id(f) for f in unreadable(weak)]
    return [line for line, w in zip(lines, weak) if id(w) in failing]


def off_theme_chart_text(page) -> list[str]:
    """Chart titles and axis labels not painted in the theme's text colour
    (``--jp-ui-font-color1``): bqplot's dark-theme CSS paints them orange."""
    return page.evaluate("""() => {
        const probe = document.createElement('span');
        probe.style.color = 'var(--jp-ui-font-color1)';
        document.body.appendChild(probe);
        const want = getComputedStyle(probe).color;
        probe.remove();
        const out = [];
        for (const t of document.querySelectorAll(
                '.bqplot svg text.mainheading, .bqplot svg text.axislabel')) {
            const text = (t.textContent || '').trim();
            if (!text || t.getBoundingClientRect().width === 0) continue;
            const fill = getComputedStyle(t).fill;
            if (fill !== want) out.push(`${JSON.stringify(text.slice(0, 60))}: ${fill}, ` +
                                        `theme text ${want}`);
        }
        return out;
    }""")


def low_contrast(page, minimum: float) -> list[dict]:
    """Visible chart texts (bqplot SVG) and widget texts whose WCAG contrast ratio against what
    is painted behind them is below ``minimum`` (the text's halo counts as its background).
    Only elements inside the viewport are measured reliably: call with a tall viewport."""
    page.evaluate(JS_LIB)
    found = page.evaluate("() => __cml.textContrast()")
    return sorted((f for f in found if f["ratio"] < minimum), key=lambda f: f["ratio"])


# -- axe-core (installed from the npm registry by .ci/run) ------------------------------------
AXE_VERSION = "4.14.1"                       # the version .ci/run installs (AXE_CORE_VERSION)
AXE_DIR = Path(os.environ.get("CML_AXE_DIR", Path(__file__).resolve().parent / ".axe"))
AXE_JS = AXE_DIR / "node_modules" / "axe-core" / "axe.min.js"
AXE_INSTALL = ("npm install --no-save --prefix tests/browser/.axe "
               f"axe-core@{AXE_VERSION}")
# What axe checks: WCAG 2.0/2.1/2.2 A and AA rules plus axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
# The learner's part of a page: every notebook output area (JupyterLab's current notebook,
# or Voila's page). Lab's own chrome (menus, toolbar) is not ours to fix.
AXE_LAB_SCOPE = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output"
AXE_VOILA_SCOPE = ".jp-OutputArea-output"


def axe_problem() -> str | None:
    """Why axe cannot run here (None when it can), with the command that installs it."""
    if not AXE_JS.is_file():
        return f"axe-core is not installed ({AXE_JS} missing): run `{AXE_INSTALL}`"
    return None


def run_axe(page, scope: str) -> tuple[int, list[dict]]:
    """Run axe-core on every element matching ``scope``; returns how many elements matched and
    axe's violations, one dict per rule: ``id``, ``impact``, ``help`` and ``nodes`` (CSS target,
    a slice of the HTML and axe's failure summary for each offending element)."""
    if not page.evaluate("() => !!window.axe"):
        page.add_script_tag(path=str(AXE_JS))
    found = page.evaluate("(scope) => document.querySelectorAll(scope).length", scope)
    if found == 0:
        return 0, []
    return found, page.evaluate("""async ([scope, tags]) => {
        const r = await axe.run({include: [scope]},
                                {runOnly: {type: 'tag', values: tags},
                                 resultTypes: ['violations']});
        return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map((n) => ({target: n.target.join(' '),
                                        html: n.html.slice(0, 240),
                                        summary: (n.failureSummary || '').slice(0, 400)}))}));
    }""", [scope, AXE_TAGS])


def axe_lines(violations: list[dict], prefix: str = "") -> list[str]:
    """One line per offending element: ``rule (impact): help -- target -- html``."""
    return [f"{prefix}{v['id']} ({v['impact']}): {v['help']} -- {n['target']} -- {n['html']}"
            for v in violations for n in v["nodes"]]


def write_artifact(name: str, lines: list[str]) -> None:
    """``artifacts/<name>`` with ``lines``; an old file of that name goes when there are none."""
    path = ARTIFACTS / name
    if lines:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    elif path.exists():
        path.unlink()


def axe_count(violations: list[dict]) -> int:
    """Offending elements, all rules together (what the per-lesson numbers count)."""
    return sum(len(v["nodes"]) for v in violations)


def press_slider_keys(page, keys=("ArrowLeft", "ArrowLeft", "ArrowRight"),
                      timeout_ms: int = 3_000) -> tuple[dict, dict, dict] | None:
    """Find a slider that moves a chart: for each visible slider handle of a chart component,
    in page order, focus it, press ``keys``, let the kernel answer (:func:`barrier`) and wait
    up to ``timeout_ms`` for the component's chart SVG *and* its ``[role=status]`` text to
    change. Returns (slider info, before, after) for the first slider that does it, None when
    there is no such slider handle at all; raises AssertionError listing what each slider did
    when none moves both (a slider for an asset the account does not hold moves nothing, so
    the first slider alone would not do)."""
    page.evaluate(JS_LIB)
    tried = []
    for index in range(page.evaluate("() => __cml.countChartSliders()")):
        info = mark_target(page, "slider", index)
        handle = page.locator('[data-cml-target="slider"]')
        handle.scroll_into_view_if_needed()
        before = component_state(page, "slider")
        handle.focus()
        for key in keys:
            page.keyboard.press(key)
        barrier(page)
        try:
            return info, before, wait_component_change(page, "slider", before, timeout_ms)
        except Exception:                                 # noqa: BLE001 -- try the next one
            now = component_state(page, "slider")
            moved = [part for part, key in (("chart", "svg"), ("summary", "status"))
                     if now[key] != before[key]]
            tried.append(f"{info['label']!r} changed {' and '.join(moved) or 'nothing'}")
    if not tried:
        return None
    raise AssertionError("no slider changed both its chart and its [role=status] summary: "
                         + "; ".join(tried))


def barrier(page) -> None:
    """Wait until the kernel has handled every message sent so far and the views drew."""
    page.evaluate("() => __cml.barrier()")


def console_text(msg) -> str:
    """A console message with the URL it names (a failed resource says which one)."""
    url = (msg.location or {}).get("url", "")
    return f"{msg.text} ({url})" if url and url not in msg.text else msg.text


class LabPage:
    """One JupyterLab tab, driven through the UI and ``window.jupyterapp`` commands."""

    def __init__(self, page, server: Server):
        self.page, self.server = page, server
        self.console_errors: list[str] = []
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self.console_errors.append(f"pageerror: {exc}"))

    def _on_console(self, msg) -> None:
        if msg.type == "error":
            self.console_errors.append(console_text(msg))

    def console_problems(self) -> list[str]:
        """Every console error and uncaught page error since the page opened. A learner's page
        logs none: bqplot's ``Error: <g> attribute transform: ... NaN`` complaints count too
        (the charts must not hand it NaN coordinates)."""
        return list(self.console_errors)

    # -- notebook ---------------------------------------------------------------------------
    def open(self, relpath: str) -> None:
        # ?reset: start from an empty workspace, so tabs of earlier tests are not reopened
        url = f"{self.server.url}/lab/tree/{relpath}?reset&token={self.server.token}"
        self.page.goto(url, wait_until="domcontentloaded", timeout=UI_TIMEOUT_MS)
        self.page.wait_for_function(
            """(path) => { const app = window.jupyterapp; if (!app || !app.shell) return false;
                const w = app.shell.currentWidget;
                return !!(w && w.context && w.context.path === path && w.content &&
                          w.content.model && w.sessionContext && w.sessionContext.session &&
                          w.sessionContext.session.kernel); }""",
            arg=relpath, timeout=UI_TIMEOUT_MS, polling=100)
        self.wait_kernel_idle()

    def open_markdown(self, relpath: str) -> None:
        """Open a Markdown file in JupyterLab's rendered preview (not the editor)."""
        url = f"{self.server.url}/lab?reset&token={self.server.token}"
        self.page.goto(url, wait_until="domcontentloaded", timeout=UI_TIMEOUT_MS)
        self.page.wait_for_function("() => !!(window.jupyterapp && window.jupyterapp.shell && "
                                    "window.jupyterapp.commands.hasCommand('markdownviewer:open'))",
                                    timeout=UI_TIMEOUT_MS, polling=100)
        # after the workspace is restored (?reset), or the restorer may close what we opened
        self.page.evaluate("() => window.jupyterapp.restored.then(() => true)")
        self.command("markdownviewer:open", {"path": relpath})
        self.page.wait_for_function(
            """(path) => { const w = window.jupyterapp.shell.currentWidget;
                return !!(w && w.context && w.context.path === path &&
                          w.node.querySelector('.jp-RenderedMarkdown h1, .jp-RenderedMarkdown h2')); }""",
            arg=relpath, timeout=UI_TIMEOUT_MS, polling=100)

    def wait_kernel_idle(self, timeout_ms: int = KERNEL_TIMEOUT_MS) -> None:
        self.page.wait_for_function(
            """() => { const w = window.jupyterapp.shell.currentWidget;
                const k = w && w.sessionContext.session && w.sessionContext.session.kernel;
                return !!k && k.status === 'idle'; }""", timeout=timeout_ms, polling=100)

    def command(self, name: str, args: dict | None = None):
        return self.page.evaluate(
            "([name, args]) => window.jupyterapp.commands.execute(name, args)",
            [name, args or {}])

    def run_all(self, timeout_ms: int = KERNEL_TIMEOUT_MS) -> None:
        """Run → Run All Cells, then wait until the kernel is idle, no cell is queued or
        running (no ``[*]``) and every code cell has an execution count -- or, when a cell
        raised (JupyterLab then drops the cells queued after it), until that error is shown:
        :meth:`errors` reports it."""
        self.page.evaluate("""() => { const nb = window.jupyterapp.shell.currentWidget.content;
            for (const c of nb.model.cells) if (c.type === 'code') c.executionCount = null; }""")
        self.command("notebook:run-all-cells")
        self.page.wait_for_function(
            """() => { const w = window.jupyterapp.shell.currentWidget;
                const k = w.sessionContext.session && w.sessionContext.session.kernel;
                if (!k || k.status !== 'idle') return false;
                const code = Array.from(w.content.model.cells).filter((c) => c.type === 'code');
                if (code.some((c) => c.executionState === 'running')) return false;
                const prompts = Array.from(document.querySelectorAll(
                    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-InputPrompt'));
                if (prompts.some((p) => p.textContent.includes('[*]'))) return false;
                const raised = code.some((c) => Array.from({length: c.outputs.length},
                    (_, j) => c.outputs.get(j).type).includes('error'));
                return raised || code.every((c) => !c.sharedModel.source.trim() ||
                                                   c.executionCount > 0);
            }""", timeout=timeout_ms, polling=200)

    def errors(self, console: bool = True) -> list[str]:
        """Error outputs, stderr streams, "Error displaying widget" text of the current notebook
        and every browser console error of the page."""
        self.page.evaluate(JS_LIB)
        found = self.page.evaluate("""() => {
            const out = [], nb = window.jupyterapp.shell.currentWidget.content;
            Array.from(nb.model.cells).forEach((c, i) => {
                if (c.type !== 'code') return;
                for (let j = 0; j < c.outputs.length; j++) {
                    const o = c.outputs.get(j).toJSON();
                    if (o.output_type === 'error')
                        out.push(`cell ${i}: ${o.ename}: ${o.evalue}`);
                    else if (o.output_type === 'stream' && o.name === 'stderr')
                        out.push(`cell ${i} stderr: ${[].concat(o.text).join('').slice(0, 500)}`);
                }
            });
            return out.concat(__cml.widgetErrors());
        }""")
        return found + ([f"console: {m}" for m in self.console_problems()] if console else [])

    def scroll_through(self) -> None:
        """Scroll every output into view once (a windowed notebook lays out what it shows)."""
        self.page.evaluate("""async () => {
            const nb = window.jupyterapp.shell.currentWidget.content;
            for (const cell of nb.widgets) {
                cell.node.scrollIntoView({block: 'center'});
                await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
            }
            nb.node.scrollTop = 0;
        }""")

    # -- theme ------------------------------------------------------------------------------
    def set_theme(self, theme: str) -> None:
        self.command("apputils:change-theme", {"theme": theme})
        light = "true" if theme == LIGHT else "false"
        self.page.wait_for_function(
            """([name, light]) => document.body.dataset.jpThemeName === name &&
                   document.body.dataset.jpThemeLight === light""",
            arg=[theme, light], timeout=UI_TIMEOUT_MS, polling=100)
        # the theme's CSS is loaded: the background really is dark / light
        self.page.wait_for_function(
            """(light) => { const c = getComputedStyle(document.body)
                    .getPropertyValue('--jp-layout-color0').trim();
                const el = document.createElement('div'); el.style.color = c;
                document.body.appendChild(el);
                const [r, g, b] = getComputedStyle(el).color.match(/\\d+/g).map(Number);
                el.remove(); const lum = (r + g + b) / 3;
                return light === 'true' ? lum > 128 : lum < 128; }""",
            arg=light, timeout=UI_TIMEOUT_MS, polling=100)

    @contextlib.contextmanager
    def whole_notebook(self, max_height: int = 16_000):
        """Make the window as tall as the notebook's content, so every cell is on screen (for a
        one-piece screenshot and for measurements that need layout); restore it afterwards.
        JupyterLab 4 scrolls ``.jp-WindowedPanel-outer``; the cells sit in ``...-viewport``."""
        vp = dict(self.page.viewport_size)
        js_sizes = """() => { const n = window.jupyterapp.shell.currentWidget.content.node;
            const outer = n.querySelector('.jp-WindowedPanel-outer') || n;
            const cells = n.querySelector('.jp-WindowedPanel-viewport') || outer;
            return [cells.offsetHeight, outer.clientHeight]; }"""
        try:
            for _ in range(6):                 # cells coming on screen may change height
                cells_h, client_h = self.page.evaluate(js_sizes)
                if cells_h <= client_h + 2:
                    break
                height = min(self.page.viewport_size["height"] + cells_h - client_h + 40,
                             max_height)
                if height == self.page.viewport_size["height"]:
                    break
                self.page.set_viewport_size({"width": vp["width"], "height": height})
                self.page.wait_for_function(
                    """([h, before]) => { const n = window.jupyterapp.shell.currentWidget
                        .content.node; const o = n.querySelector('.jp-WindowedPanel-outer') || n;
                        return window.innerHeight === h && o.clientHeight > before; }""",
                    arg=[height, client_h], timeout=UI_TIMEOUT_MS)
                settle(self.page)
            self.page.evaluate("""() => { const n = window.jupyterapp.shell.currentWidget
                .content.node; (n.querySelector('.jp-WindowedPanel-outer') || n).scrollTop = 0;
                }""")
            settle(self.page)
            yield
        finally:
            self.page.set_viewport_size(vp)


@contextlib.contextmanager
def tall_viewport(page, max_height: int = 16_000):
    """Grow the window until no element scrolls vertically (Voilà's lab template scrolls inside
    its shell, so a full-page screenshot alone would cut the app), restore it afterwards."""
    vp = dict(page.viewport_size)
    js_extra = """() => { let extra = document.documentElement.scrollHeight - innerHeight;
        for (const e of document.querySelectorAll('*')) {
            if (e.clientHeight === 0 || !/(auto|scroll)/.test(getComputedStyle(e).overflowY))
                continue;
            extra = Math.max(extra, e.scrollHeight - e.clientHeight); }
        return extra; }"""
    try:
        for _ in range(6):
            extra = page.evaluate(js_extra)
            height = min(page.viewport_size["height"] + extra + 20, max_height)
            if extra <= 2 or height == page.viewport_size["height"]:
                break
            page.set_viewport_size({"width": vp["width"], "height": height})
            page.wait_for_function("(h) => window.innerHeight === h", arg=height)
            settle(page)
        yield
    finally:
        page.set_viewport_size(vp)


def settle(page) -> None:
    """Two animation frames: what the last change laid out has been painted."""
    page.evaluate("() => new Promise((r) => requestAnimationFrame(() => "
                  "requestAnimationFrame(r)))")


def expected_figures(page, where: str = "lab") -> int:
    """Number of bqplot figure views the displayed widgets make (-1: cannot tell)."""
    page.evaluate(JS_LIB)
    if where == "lab":
        page.evaluate("() => __cml.resolveLabManager()")
    try:
        handle = page.wait_for_function(
            f"() => {{ const n = __cml.{where}ExpectedFigures(); "
            "return n === -2 ? false : n + 1; }", timeout=UI_TIMEOUT_MS, polling=100)
    except Exception as exc:                              # noqa: BLE001 -- explained
        raise AssertionError("a displayed widget's model never finished loading in the "
                             f"browser ({UI_TIMEOUT_MS // 1000} s)") from exc
    return int(handle.json_value()) - 1


def wait_figures_drawn(page, expected: int = 0, timeout_ms: int = CHANGE_TIMEOUT_MS) -> list:
    """Wait until at least ``expected`` bqplot figures are in the page and every visible one
    has a size and drawn marks (figures hidden on purpose, e.g. ``display: none``, are not
    required to draw). Returns the problems left when the time is up ([] when all is well)."""
    page.evaluate(JS_LIB)
    js_ok = """(expected) => { const figs = __cml.figures();
        return figs.length >= expected && figs.filter(__cml.visible).every((f) => {
            const s = __cml.figureState(f);
            return s.width > 0 && s.height > 0 && s.marks > 0 && s.shapes > 0; }); }"""
    try:
        page.wait_for_function(js_ok, arg=expected, timeout=timeout_ms, polling=100)
    except Exception:                                     # noqa: BLE001 -- reported below
        pass
    problems = undrawn_figures(page)
    found = len(chart_report(page))
    if found < expected:
        problems.append(f"{found} bqplot figure(s) in the page, {expected} expected")
    return problems


def screenshot(page, name: str) -> Path:
    """``tests/browser/artifacts/<name>.png`` of the current viewport."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path))
    return path


class PhaseClock:
    """Wall time per phase of a test, for the printed summary (``str()``)."""

    def __init__(self):
        self.laps, self._t = [], time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.laps.append((name, now - self._t))
        self._t = now

    def __str__(self) -> str:
        return " ".join(f"{n} {s:.1f}s" for n, s in self.laps)


def temp_dir(prefix: str) -> Path:
    return Path(tempfile.mkdtemp(prefix=prefix))
