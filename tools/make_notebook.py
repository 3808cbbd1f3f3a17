"""Write a lesson notebook from a compact Python description (cells stored without outputs).

Usage in a build script::

    from tools.make_notebook import md, code, write
    write("lessons/00_start_here.ipynb", [md("# Title"), code("print(1)")])
"""
from __future__ import annotations

import json
from pathlib import Path


def md(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": text.strip("\n")}


def code(text: str, check_output: bool = False) -> dict:
    src = text.strip("\n")
    if check_output:
        src = "# NBVAL_CHECK_OUTPUT\n" + src
    return {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [],
            "source": src}


def write(path, cells) -> None:
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                           "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for i, cell in enumerate(nb["cells"]):
        cell["id"] = f"cell-{i:02d}"
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
