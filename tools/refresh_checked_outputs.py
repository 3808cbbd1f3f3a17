"""Execute lessons and store outputs only for ``# NBVAL_CHECK_OUTPUT`` cells.

Lessons are committed without outputs and widget state, except the few text cells whose printed
numbers nbval checks exactly; those need their expected output stored. Run this after an
intentional change to the engine's numbers, then review the diff:

    python tools/refresh_checked_outputs.py lessons/*.ipynb
"""
from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

MARK = "# NBVAL_CHECK_OUTPUT"


def refresh(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        if cell.source.startswith(MARK):
            count += 1
            cell.execution_count = count
            cell.outputs = [o for o in cell.outputs if o.output_type == "stream"]
        else:
            cell.execution_count = None
            cell.outputs = []
        cell.metadata.pop("execution", None)
    nb.metadata.pop("widgets", None)
    nbformat.write(nb, path)


if __name__ == "__main__":
    for arg in sys.argv[1:]:
        refresh(Path(arg))
        print("refreshed", arg)
