"""check_environment: headless, reads installed versions, explains a front-end mismatch."""
import json
import sys
from importlib import metadata

import pytest

from widgets import check_environment, environment
from widgets.environment import WIDGETS_EXT, detect_frontend, satisfies

REAL_READ = environment.read_labextension


@pytest.fixture(autouse=True)
def plain_python(monkeypatch):
    """Same answer whatever terminal runs the tests (VS Code's sets VSCODE_* variables)."""
    monkeypatch.setattr(environment, "detect_frontend", lambda environ=None: ("python", "test"))


def _fake_frontend(monkeypatch, **overrides):
    """Replace the front-end reader: ``overrides`` maps extension name -> dict or None."""
    def read(name):
        if name in overrides:
            return overrides[name]
        return REAL_READ(name)
    monkeypatch.setattr(environment, "read_labextension", read)


def _ext(version, models=None, path="/srv/lab/share/jupyter/labextensions/x", copies=None,
         dependencies=None):
    return {"version": version, "path": path, "dependencies": dependencies or {},
            "copies": copies or [(path, version)], "models": models or {}}


def test_runs_headless_and_reports_kernel_versions(capsys):
    report = check_environment()                             # display=True, no kernel: prints
    out = capsys.readouterr().out
    assert out.startswith("Widget environment: OK")
    for name in ("ipywidgets", "jupyterlab_widgets", "bqplot", "traitlets", "numpy"):
        assert report.kernel[name] == metadata.version(name)
        assert f"{name} {metadata.version(name)}" in out
    assert report.python == sys.version.split()[0]
    assert report.ok and report.problems == [] and report.fix == []
    json.dumps(report.to_dict())                             # plain data


def test_reads_the_installed_frontend_extensions():
    widgets_ext = environment.read_labextension(WIDGETS_EXT)
    bq = environment.read_labextension("bqplot")
    if widgets_ext is None or bq is None:
        pytest.skip("front-end extensions not installed in this environment")
    # ipywidgets 8's kernel asks for base/controls models 2.0.0; the bundle registers them.
    from ipywidgets import _version
    assert _version.__jupyter_widgets_controls_version__ in widgets_ext["models"]["controls"]
    assert _version.__jupyter_widgets_base_version__ in widgets_ext["models"]["base"]
    from bqplot import _version as bq_version
    assert satisfies(bq["version"], bq_version.__frontend_version__)
    report = check_environment(display=False)
    assert report.extensions["bqplot"]["version"] == bq["version"]
    assert report.extensions["bqplot"]["expected"] == bq_version.__frontend_version__


def test_detects_an_ipywidgets7_frontend_and_explains_the_fix(monkeypatch):
    _fake_frontend(monkeypatch, **{WIDGETS_EXT: _ext(
        "3.0.13", models={"base": ["1.2.0"], "controls": ["1.5.0"]})})
    report = check_environment(display=False)
    assert not report.ok and not report.extensions[WIDGETS_EXT]["ok"]
    problem = " ".join(report.problems)
    assert "controls widget models 2.0.0" in problem and "controls 1.5.0" in problem
    assert len(report.problems) == 1
    assert "model not found" in problem
    fix = " ".join(report.fix)
    assert "Restart the JupyterLab server" in fix and "restarting only the kernel" in fix.lower()
    assert "SAME environment" in fix and "Hard-refresh" in fix
    assert "Do not use `jupyter labextension install`" in fix
    assert f'"ipywidgets=={metadata.version("ipywidgets")}"' in fix
    assert '"jupyterlab_widgets~=' in fix                    # from ipywidgets' own metadata
    html = report._repr_html_()
    assert "var(--jp-" in html and "✗ mismatch" in html and "<ol>" in html
    assert "white" not in html and "black" not in html and "#fff" not in html.lower()


def test_detects_a_bqplot_frontend_mismatch(monkeypatch):
    _fake_frontend(monkeypatch, bqplot=_ext("0.5.46"))
    report = check_environment(display=False)
    assert not report.ok and not report.extensions["bqplot"]["ok"]
    assert any("bqplot browser extension ^0.6" in p and "0.5.46 is installed" in p
               for p in report.problems)
    assert report.extensions[WIDGETS_EXT]["ok"]


def test_missing_and_shadowed_extensions(monkeypatch):
    _fake_frontend(monkeypatch, **{WIDGETS_EXT: None})
    report = check_environment(display=False)
    assert not report.ok and "is missing" in report.problems[0]
    stale = [("/home/me/.local/share/jupyter/labextensions/bqplot", "0.5.40"),
             ("/env/share/jupyter/labextensions/bqplot", "0.6.1")]
    _fake_frontend(monkeypatch, bqplot=_ext("0.5.40", path=stale[0][0], copies=stale))
    report = check_environment(display=False)
    assert any("Several copies of bqplot" in p and ".local/share" in p for p in report.problems)


def test_kernel_side_pair_mismatch(monkeypatch):
    real = environment.kernel_versions()
    monkeypatch.setattr(environment, "kernel_versions",
                        lambda: {**real, "jupyterlab_widgets": "1.1.7"})
    report = check_environment(display=False)
    assert not report.ok
    assert any("needs jupyterlab_widgets~=" in p and "1.1.7 is installed" in p
               for p in report.problems)


def test_hosted_front_ends_turn_extension_problems_into_notes(monkeypatch):
    monkeypatch.setattr(environment, "detect_frontend", lambda environ=None: ("colab", "Colab"))
    _fake_frontend(monkeypatch, bqplot=_ext("0.5.46"))
    report = check_environment(display=False)
    assert report.ok and "enable_custom_widget_manager" in report.notes[0]
    assert any(n.startswith("Only matters in JupyterLab") for n in report.notes)


def test_detect_frontend_from_environment_variables(monkeypatch):
    monkeypatch.undo()                                       # the real detector
    assert detect_frontend({"VOILA_KERNEL_ID": "k"})[0] == "voila"
    assert detect_frontend({"COLAB_RELEASE_TAG": "x"})[0] == "colab"
    assert detect_frontend({"VSCODE_PID": "1"})[0] == "vscode"
    kind, text = detect_frontend({"JPY_SESSION_NAME": "/a.ipynb", "VSCODE_PID": "1",
                                  "BINDER_REPO_URL": "https://github.com/x/y"})
    assert kind == "jupyter" and text.endswith("on Binder")
    assert detect_frontend({"JUPYTERHUB_API_URL": "u"})[1].endswith("on JupyterHub")
    if "google.colab" not in sys.modules:
        assert detect_frontend({})[0] in ("python", "ipython", "jupyter")


def test_html_display_in_a_kernel(monkeypatch):
    import IPython
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython, "get_ipython", lambda: type("Shell", (), {"kernel": object()})())
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    check_environment()
    assert len(shown) == 1 and 'role="status"' in shown[0].data


def test_satisfies_npm_ranges():
    assert satisfies("0.6.1", "^0.6.1") and satisfies("0.6.9", "^0.6.1")
    assert not satisfies("0.7.0", "^0.6.1") and not satisfies("0.6.0", "^0.6.1")
    assert satisfies("5.0.16", "^5.0.13") and not satisfies("6.0.0", "^5.0.13")
    assert satisfies("0.3.7", "^0.3.2") and satisfies("1.2.9", "~1.2.3")
    assert not satisfies("1.3.0", "~1.2.3") and satisfies("2.0.0", ">=1.0.0")
    assert satisfies("6.0.1", "^2 || ^3 || ^4 || ^5 || ^6") and satisfies("1.0.0", "*")
    # node-semver (npm's semantics): hyphen ranges, x ranges, prereleases excluded by default
    assert satisfies("1.5.0", "1.2.3 - 2.3.4") and not satisfies("2.4.0", "1.2.3 - 2.3.4")
    assert satisfies("4.9.9", "4.x") and not satisfies("5.0.0", "4.x")
    assert not satisfies("1.0.0-rc.1", "^0.9 || ^1.0.0")


def test_satisfies_says_none_when_it_cannot_tell():
    """An unparseable version or range is "cannot tell" (None), never a match."""
    for version, spec in (("0.13.1", "this is not a range"), ("?", "^0.13"),
                          ("", "^1"), ("1.0.0", ">=x.y")):
        assert satisfies(version, spec) is None, (version, spec)


def test_an_unreadable_range_is_unknown_not_ok(monkeypatch, capsys):
    """bqplot's expected front-end range cannot be parsed: the report is UNKNOWN, not OK."""
    monkeypatch.setattr(environment, "_bqplot_frontend_range", lambda: "not a range")
    report = check_environment()
    out = capsys.readouterr().out
    assert not report.ok and report.status == "UNKNOWN" and report.problems == []
    assert out.startswith("Widget environment: UNKNOWN")
    assert report.extensions["bqplot"]["ok"] is None
    assert "bqplot browser extension" in report.unknown[0] and "not a range" in report.unknown[0]
    assert "Could not check: " in out
    assert any(line.startswith("  front-end extension bqplot") and line.endswith(": UNKNOWN")
               for line in out.splitlines())
    html = report._repr_html_()
    assert "? not checked" in html and "Could not check" in html
    assert "Widgets should display" not in html and "var(--jp-warn-color1)" in html


def test_an_unreadable_bundle_or_protocol_is_unknown(monkeypatch):
    """No model version found in the widget bundle, or none asked for by ipywidgets: UNKNOWN
    (the old check called an unreadable bundle OK)."""
    _fake_frontend(monkeypatch, **{WIDGETS_EXT: _ext("5.0.16", models={})})
    report = check_environment(display=False)
    assert report.status == "UNKNOWN" and not report.ok
    assert report.extensions[WIDGETS_EXT]["ok"] is None
    assert "browser bundle" in " ".join(report.unknown)
    monkeypatch.undo()
    monkeypatch.setattr(environment, "detect_frontend", lambda environ=None: ("python", "t"))
    monkeypatch.setattr(environment, "_ipywidgets_protocol", lambda: {})
    report = check_environment(display=False)
    assert report.status == "UNKNOWN" and "ipywidgets" in report.unknown[0]


def test_an_unparseable_pep440_pair_is_unknown(monkeypatch):
    real = environment.kernel_versions()
    monkeypatch.setattr(environment, "kernel_versions",
                        lambda: {**real, "jupyterlab_widgets": "not-a-version"})
    report = check_environment(display=False)
    assert report.status == "UNKNOWN" and not report.ok and report.problems == []
    assert "jupyterlab_widgets" in report.unknown[0]


def test_a_mismatch_wins_over_unknown(monkeypatch):
    _fake_frontend(monkeypatch, bqplot=_ext("0.5.46"), **{WIDGETS_EXT: _ext("5.0.16")})
    report = check_environment(display=False)
    assert report.status == "PROBLEM" and report.unknown and report.problems


def test_without_node_semver_the_range_check_is_unknown(monkeypatch):
    monkeypatch.setitem(sys.modules, "nodesemver", None)        # import fails
    assert satisfies("0.13.1", "^0.13.1") is None
    assert check_environment(display=False).status == "UNKNOWN"
