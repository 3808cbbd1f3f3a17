"""Repository-wide test setup."""
from __future__ import annotations

import os
import tempfile


def pytest_configure(config):
    # Lessons run under nbval (and anything else the suite starts) record self-check progress in
    # a throw-away file, never in the learner's own ~/.cross_margin_lab/progress.json.
    if "CML_PROGRESS_FILE" not in os.environ:
        path = os.path.join(tempfile.mkdtemp(prefix="cml-progress-"), "progress.json")
        os.environ["CML_PROGRESS_FILE"] = path
