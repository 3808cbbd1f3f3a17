"""Which self-checks a learner has answered right, kept across sessions in a small JSON file.

The file is local (no network): ``~/.cross_margin_lab/progress.json`` unless the environment
variable ``CML_PROGRESS_FILE`` names another path (tests point it at a temporary directory).
Its content::

    {"version": 1, "correct": {"04": ["half_close", "pool_close"], ...}}

A file that cannot be read or parsed is ignored with a message (``Progress.message``), never a
traceback; it is left where it is until the next right answer writes a fresh record over it
(the broken one is first renamed to ``progress.json.broken``).
"""
from __future__ import annotations

import json
import os
from pathlib import Path

ENV = "CML_PROGRESS_FILE"
VERSION = 1


def default_path() -> Path:
    """``$CML_PROGRESS_FILE`` if set, else ``~/.cross_margin_lab/progress.json``."""
    override = os.environ.get(ENV)
    return Path(override).expanduser() if override else (
        Path.home() / ".cross_margin_lab" / "progress.json")


def _read(path: Path) -> tuple[dict[str, set[str]], str]:
    """The record in ``path`` ({} if there is no file) and "" -- or ({}, what is wrong)."""
    if not path.exists():
        return {}, ""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("correct", {}), dict):
            raise ValueError("it is not a progress record")
        return {str(k): {str(q) for q in v} for k, v in data.get("correct", {}).items()
                if isinstance(v, (list, tuple))}, ""
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return {}, str(exc)


class Progress:
    """The set of (lesson, question) pairs answered right, read from and written to ``path``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = Progress(pathlib.Path(tempfile.mkdtemp()) / "progress.json")
    >>> p.record("04", "half_close"), p.correct("04")
    (True, {'half_close'})
    >>> Progress(p.path).correct("04")                  # a new session reads the file back
    {'half_close'}
    >>> _ = p.path.write_text("{not json")
    >>> broken = Progress(p.path)
    >>> broken.correct("04"), broken.message.startswith("Your progress file")
    (set(), True)
    """

    def __init__(self, path: str | os.PathLike | None = None):
        self.path = Path(path) if path is not None else default_path()
        self.message = ""
        self._broken = False
        self._correct: dict[str, set[str]] = {}
        self._load()

    # -- reading --------------------------------------------------------------------------
    def _load(self) -> None:
        correct, problem = _read(self.path)
        if problem:
            self._broken = True
            self.message = (f"Your progress file {self.path} could not be read ({problem}); it "
                            "is ignored, and progress starts afresh from here.")
        self._correct = correct

    def refresh(self) -> None:
        """Merge in what the file holds now (answers recorded by another open lesson)."""
        if self._broken:
            return
        on_disk, problem = _read(self.path)
        for k, v in ({} if problem else on_disk).items():
            self._correct.setdefault(k, set()).update(v)

    def correct(self, lesson: str) -> set[str]:
        """Question ids of ``lesson`` ("04") answered right so far."""
        return set(self._correct.get(lesson, set()))

    # -- writing --------------------------------------------------------------------------
    def record(self, lesson: str, question: str) -> bool:
        """Remember a right answer and save the file; False (with ``message``) if it can't.

        The file is read again first and merged, so two lessons open at once (two kernels,
        each with its own record) do not overwrite each other's answers.
        """
        self._correct.setdefault(lesson, set()).add(question)
        self.refresh()
        data = {"version": VERSION,
                "correct": {k: sorted(v) for k, v in sorted(self._correct.items())}}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self._broken and self.path.exists():
                self.path.replace(self.path.with_name(self.path.name + ".broken"))
                self._broken = False
            tmp = self.path.with_name(self.path.name + ".tmp")
            tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
            tmp.replace(self.path)                   # atomic: a crash never leaves half a file
        except OSError as exc:
            self.message = (f"Your progress could not be saved to {self.path} ({exc}); it is "
                            "kept for this session only.")
            return False
        return True

    def reset(self) -> None:
        """Forget every recorded answer (and delete the file)."""
        self._correct = {}
        self.path.unlink(missing_ok=True)
