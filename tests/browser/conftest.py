"""Real-browser tier: the system Chromium, driven by Playwright, against JupyterLab and Voilà.

Needs ``/usr/bin/chromium`` (Debian package ``chromium``) and the ``playwright`` Python package
(in the ``test`` extra). Playwright never downloads a browser here: ``playwright install`` is not
needed and must not be run. Without Chromium or Playwright the tests are skipped with the reason
-- except in CI (``CI=true``), where that is a failure: CI must run them.

One JupyterLab server per session (``lab_server``), serving a temporary copy of ``lessons/`` with
isolated Jupyter directories; one Chromium per session; a fresh browser context per test.
Screenshots and server logs go to ``tests/browser/artifacts/`` (git-ignored).
"""
from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _lab  # noqa: E402


def _browser_problem() -> str | None:
    if not (os.path.isfile(_lab.CHROMIUM) and os.access(_lab.CHROMIUM, os.X_OK)):
        return (f"{_lab.CHROMIUM} not found: install Debian's chromium "
                "(apt-get install chromium fonts-dejavu-core) or set CML_CHROMIUM")
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed: pip install -e '.[test]'"
    try:
        import playwright.sync_api  # noqa: F401
    except Exception as exc:                        # noqa: BLE001 -- reported as the reason
        return f"playwright cannot be imported: {exc!r}"
    return None


BROWSER_PROBLEM = _browser_problem()
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.fixture(autouse=True, scope="session")
def _browser_available():
    if BROWSER_PROBLEM:
        if IN_CI:
            pytest.fail(f"browser tests cannot run in CI: {BROWSER_PROBLEM}", pytrace=False)
        pytest.skip(f"browser tests skipped: {BROWSER_PROBLEM}")


AXE_PROBLEM = _lab.axe_problem()


@pytest.fixture(scope="session")
def axe_available() -> bool:
    """True when axe-core is installed (``.ci/run`` installs it from the npm registry). Missing:
    a failure under CI, else False and a warning with the install command (the rest of each
    browser test still runs; ``test_axe_core_installed`` shows the skip and its reason)."""
    if AXE_PROBLEM is None:
        return True
    if IN_CI:
        pytest.fail(f"accessibility check cannot run in CI: {AXE_PROBLEM}", pytrace=False)
    import warnings
    warnings.warn(f"accessibility (axe) check skipped: {AXE_PROBLEM}", stacklevel=1)
    return False


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    _lab.ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return _lab.ARTIFACTS


@pytest.fixture(scope="session")
def lessons_copy(tmp_path_factory) -> Path:
    """A throw-away copy of lessons/: servers run here, so nothing is written to the repo."""
    return _lab.copy_lessons(tmp_path_factory.mktemp("cml-browser") / "lessons")


@pytest.fixture(scope="session")
def lab_server(lessons_copy, tmp_path_factory, artifacts_dir):
    server = _lab.start_lab(lessons_copy, tmp_path_factory.mktemp("cml-jupyter-home"),
                            artifacts_dir / "jupyterlab-server.log")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def chromium(_browser_available):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = _lab.launch_chromium(pw)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport=_lab.VIEWPORT)
    context.set_default_timeout(_lab.UI_TIMEOUT_MS)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def lab(page, lab_server):
    """A JupyterLab tab (:class:`_lab.LabPage`); kernels it started are shut down afterwards."""
    lab_page = _lab.LabPage(page, lab_server)
    yield lab_page
    try:
        lab_server.shutdown_sessions()
    except OSError:
        pass


@pytest.fixture
def voila_home(tmp_path):
    home = tmp_path / "home"
    home.mkdir()
    return home
