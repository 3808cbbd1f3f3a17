"""Number formats for question texts computed from the engine (so quoted numbers cannot drift)."""
from __future__ import annotations

import numpy as np


def scalar(x) -> float:
    """A float from an engine output that may be a 0-d or 1-element array."""
    return float(np.asarray(x, dtype=float).reshape(-1)[0])


def usd(x, decimals: int = 0) -> str:
    """``$9,000`` / ``-$6,667`` / ``$3,380.95``."""
    x = scalar(x)
    return f"{'-' if x < 0 else ''}${abs(x):,.{decimals}f}"


def musd(x, decimals: int = 1) -> str:
    """``$1.8 M`` for an amount in dollars."""
    return f"{'-' if scalar(x) < 0 else ''}${abs(scalar(x)) / 1e6:,.{decimals}f} M"


def num(x, decimals: int = 2) -> str:
    """``1.59`` / ``17,550,000`` (thousands separated)."""
    return f"{scalar(x):,.{decimals}f}"


def pct(x, decimals: int = 1) -> str:
    """``104.9 %`` for a fraction 1.049."""
    return f"{scalar(x) * 100:,.{decimals}f} %"
