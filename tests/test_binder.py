"""binder/ stays reproducible and in step with what the tests run.

* ``binder/requirements.txt`` pins every package with ``==`` (a full ``pip freeze``) and includes
  the widget stack: ipywidgets, jupyterlab_widgets, bqplot, jupyterlab;
* its ipywidgets / jupyterlab_widgets / bqplot pins are the versions installed in this test
  environment (version-skew guard: the browser tier checks exactly what Binder serves; when a
  new release lands, regenerate the file with the command in its header / the README);
* the pins satisfy the project's own dependency ranges (pyproject ``dependencies``);
* ``binder/postBuild`` does nothing but ``pip install --no-deps .``.

With ``CML_FULL_BINDER_CHECK=1`` it also installs ``binder/requirements.txt`` into a fresh venv
(from the package index: slow, needs the network), then the project with ``--no-deps``, and
checks ``pip check``, the imports and the JupyterLab extensions there.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import venv
from importlib.metadata import PackageNotFoundError, requires, version
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"
WIDGET_STACK = ("ipywidgets", "jupyterlab_widgets", "bqplot")
REQUIRED = (*WIDGET_STACK, "jupyterlab")


def _pins() -> dict[str, str]:
    pins = {}
    for raw in (BINDER / "requirements.txt").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([A-Za-z0-9.+!_-]+)", line)
        assert match, f"binder/requirements.txt: {line!r} is not pinned as name==version"
        name = canonicalize_name(match.group(1))
        assert name not in pins, f"binder/requirements.txt pins {name} twice"
        pins[name] = match.group(2)
    return pins


def test_every_requirement_is_pinned():
    assert len(_pins()) > 10, "binder/requirements.txt looks empty"


@pytest.mark.parametrize("package", REQUIRED)
def test_widget_stack_is_pinned(package):
    assert canonicalize_name(package) in _pins(), f"binder/requirements.txt lacks {package}"


@pytest.mark.parametrize("package", WIDGET_STACK)
def test_binder_pins_match_the_test_environment(package):
    pinned = _pins()[canonicalize_name(package)]
    installed = version(package)
    assert pinned == installed, (
        f"{package}: binder/requirements.txt pins {pinned}, the tests run {installed}; "
        "regenerate binder/requirements.txt (command in its header) so Binder serves what "
        "the browser tests checked")


def test_binder_pins_satisfy_the_project_dependencies():
    try:
        deps = requires("cross-margin-lab") or []
    except PackageNotFoundError:
        pytest.skip("the project is not installed (pip install -e .)")
    pins = _pins()
    problems = []
    for text in deps:
        req = Requirement(text)
        if req.marker is not None and not req.marker.evaluate({"extra": ""}):
            continue                                          # an extra (test, ...)
        pinned = pins.get(canonicalize_name(req.name))
        if pinned is None:
            problems.append(f"{req.name} is not pinned")
        elif not req.specifier.contains(pinned, prereleases=True):
            problems.append(f"{req.name}=={pinned} is outside {req.specifier}")
    assert not problems, f"binder/requirements.txt vs pyproject dependencies: {problems}"


def test_postbuild_only_installs_the_project_without_dependencies():
    lines = [line.strip() for line in (BINDER / "postBuild").read_text().splitlines()]
    commands = [line for line in lines
                if line and not line.startswith("#") and line != "set -euo pipefail"]
    assert len(commands) == 1 and re.fullmatch(
        r"(python3? -m )?pip install --no-deps \.", commands[0]), (
        f"binder/postBuild must only run 'pip install --no-deps .', found {commands}")


@pytest.mark.skipif(os.environ.get("CML_FULL_BINDER_CHECK") != "1",
                    reason="set CML_FULL_BINDER_CHECK=1 for a fresh-venv install of "
                           "binder/requirements.txt (slow, needs the package index)")
def test_binder_environment_installs_and_imports(tmp_path):
    start = time.perf_counter()
    env_dir = tmp_path / "binder-venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    py = str(env_dir / "bin" / "python")

    def run(*args, timeout=900):
        done = subprocess.run([py, *args], capture_output=True, text=True, timeout=timeout,
                              cwd=REPO)
        assert done.returncode == 0, f"{args}: {done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        return done.stdout

    run("-m", "pip", "install", "--quiet", "-r", str(BINDER / "requirements.txt"))
    run("-m", "pip", "install", "--quiet", "--no-deps", ".")  # what postBuild does
    run("-m", "pip", "check")
    run("-c", "import widgets, bqplot, ipywidgets; "
              "[getattr(widgets, n) for n in widgets._LAZY]")
    listing = subprocess.run([py, "-m", "jupyter", "labextension", "list"],
                             capture_output=True, text=True, cwd=REPO)
    extensions = re.sub(r"\x1b\[[0-9;]*m", "", listing.stdout + listing.stderr)  # colours
    for name in ("bqplot", "@jupyter-widgets/jupyterlab-manager"):
        assert re.search(rf"{re.escape(name)} v\S+ enabled", extensions), extensions
    print(f"\nfresh binder venv: {time.perf_counter() - start:.0f} s "
          f"(Python {sys.version.split()[0]})")
