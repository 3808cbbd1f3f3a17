"""The engine (and the bare package) must not pull in the Jupyter stack.

Each check runs in a fresh interpreter so that modules already imported by
pytest, nbval or other tests cannot hide (or fake) a leak.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]

HEAVY = ("ipywidgets", "bqplot", "traitlets", "IPython", "ipykernel", "comm")


def _loaded_after(statement: str) -> dict:
    code = (
        f"{statement}\n"
        "import json, sys, widgets\n"
        f"heavy = {HEAVY!r}\n"
        "bad = [m for m in heavy if m in sys.modules]\n"
        "print(json.dumps({'bad': bad, 'file': widgets.__file__}))\n"
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), env.get("PYTHONPATH", "")) if p
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, f"subprocess failed:\n{proc.stderr}"
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    # Make sure we tested this checkout, not some other 'widgets' package.
    assert Path(result["file"]).resolve().is_relative_to(REPO), result["file"]
    return result


@pytest.mark.parametrize(
    "statement",
    ["import widgets", "import widgets.engine"],
    ids=["widgets", "widgets.engine"],
)
def test_import_does_not_load_jupyter_stack(statement):
    result = _loaded_after(statement)
    assert result["bad"] == [], f"{statement!r} loaded {result['bad']}"
