"""Escape currency dollar signs in lesson markdown so MathJax does not typeset them.

JupyterLab and Voilà hand markdown with two or more ``$`` to MathJax, so "$5,000 ... $3,000" turns
into garbled maths. In the notebook source, ``\\\\$`` (two backslashes) survives the markdown pass
as ``\\$``, which MathJax prints as a literal "$". A ``$`` followed by a digit or an ellipsis is
currency; other ``$...$`` pairs are maths and are left alone. Code spans and fences are untouched.

    python tools/escape_dollars.py lessons/*.ipynb
"""
from __future__ import annotations

import json
import re
import sys

CURRENCY = re.compile(r"(?<!\\)\\?\$(?=[\d…])")
PROTECTED = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)


def escape(text: str) -> str:
    parts = PROTECTED.split(text)
    return "".join(p if i % 2 else CURRENCY.sub(r"\\\\$", p) for i, p in enumerate(parts))


def unescaped_currency(text: str) -> list:
    """Currency dollars that are not escaped (for the hygiene test)."""
    plain = "".join(p for i, p in enumerate(PROTECTED.split(text)) if i % 2 == 0)
    return [m.start() for m in re.finditer(r"(?<!\\\\)\$(?=[\d…])", plain)]


def main(paths) -> None:
    for path in paths:
        nb = json.load(open(path, encoding="utf-8"))
        for cell in nb["cells"]:
            if cell["cell_type"] == "markdown":
                src = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
                cell["source"] = escape(src)
        with open(path, "w", encoding="utf-8") as f:
            f.write(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
        print("escaped", path)


if __name__ == "__main__":
    main(sys.argv[1:])
