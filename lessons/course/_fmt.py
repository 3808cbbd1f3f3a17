"""Number formats for question texts computed from the engine (so quoted numbers cannot drift)."""
from __future__ import annotations

import numpy as np


def scalar(x) -> float:
    """A float from an engine output that may be a 0-d or 1-element array."""
    return float(np.asarray(x, dtype=float).reshape(-1)[0])


def usd(x, decimals: int = 0) -> str:
    """``9,000 USD`` / ``-6,667 USD`` / ``3,380.95 USD`` (the lessons' currency convention:
    the unit after the amount, no ``$``, which markdown would typeset as maths)."""
    return f"{scalar(x):,.{decimals}f} USD"


def musd(x, decimals: int = 1) -> str:
    """``1.8 M USD`` for an amount in dollars."""
    return f"{scalar(x) / 1e6:,.{decimals}f} M USD"


def num(x, decimals: int = 2) -> str:
    """``1.59`` / ``17,550,000`` (thousands separated)."""
    return f"{scalar(x):,.{decimals}f}"


def pct(x, decimals: int = 1) -> str:
    """``104.9 %`` for a fraction 1.049."""
    return f"{scalar(x) * 100:,.{decimals}f} %"
