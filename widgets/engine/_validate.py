"""Input checks shared by every engine constructor.

Each check raises :class:`MarginInputError` (a ``ValueError``) whose message names the field, the
rule and the offending value, e.g. ``asset_weight[ETH] must be in [0, 1], got 1.2``. Checks run
before any state is built, so a failed constructor leaves nothing behind.
"""
from __future__ import annotations

import numpy as np

# Sizes beyond these are almost certainly a typo (10**9 accounts is 64 GB per float column);
# refusing them early gives a readable error instead of a MemoryError deep inside numpy.
MAX_ACCOUNTS = 5_000_000
MAX_ASSETS = 256
MAX_SCENARIOS = 1_000_000
MAX_CELLS = 50_000_000  # scenarios x accounts evaluated at once


class MarginInputError(ValueError):
    """Bad input to the margin engine; the message names the field and the offending value."""


def format_value(value) -> str:
    """Format a value for an error message.

    Parameters
    ----------
    value : object

    Returns
    -------
    str
        Floats as plain Python floats (so numpy 2 prints ``nan``, not ``np.float64(nan)``),
        integers as integers, anything else as its ``repr``.

    Examples
    --------
    >>> format_value(np.float64("nan")), format_value(np.int64(3)), format_value("x")
    ('nan', '3', "'x'")
    """
    if isinstance(value, (np.floating, float)):
        return repr(float(value))
    if isinstance(value, (np.integer, int)) and not isinstance(value, bool):
        return str(int(value))
    return repr(value)


def _label(field: str, index, names) -> str:
    if index is None:
        return field
    if names is not None and np.ndim(index) == 0:
        return f"{field}[{names[int(index)]}]"
    if np.ndim(index) == 0:
        return f"{field}[{int(index)}]"
    return f"{field}[{', '.join(str(int(i)) for i in index)}]"


def as_float_array(field: str, value, shape=None, names=None) -> np.ndarray:
    """Return a finite float64 copy of ``value``, broadcast to ``shape`` if given."""
    try:
        arr = np.array(value, dtype=float)
    except (TypeError, ValueError) as exc:
        raise MarginInputError(f"{field} must be numbers, got {value!r}") from exc
    if shape is not None:
        if arr.ndim == 0 or arr.shape == tuple(shape):
            arr = np.broadcast_to(arr, shape).copy()
        else:
            raise MarginInputError(
                f"{field} must have shape {tuple(shape)}, got shape {arr.shape}"
            )
    bad = ~np.isfinite(arr)
    if bad.any():
        idx = np.argwhere(bad)[0]
        idx = idx[0] if idx.size == 1 else tuple(idx)
        lab = _label(field, idx if arr.ndim else None, names if arr.ndim == 1 else None)
        raise MarginInputError(f"{lab} must be finite, got {format_value(arr[bad][0])}")
    return arr


def check_range(field: str, arr: np.ndarray, low=None, high=None, *, low_open=False,
                names=None) -> None:
    """Raise unless every entry of ``arr`` lies in the interval [low, high] (``(low`` if low_open)."""
    bad = np.zeros(arr.shape, dtype=bool)
    if low is not None:
        bad |= (arr <= low) if low_open else (arr < low)
    if high is not None:
        bad |= arr > high
    if bad.any():
        idx = np.argwhere(bad)[0]
        where = _label(field, idx[0] if arr.ndim == 1 else (tuple(idx) if arr.ndim else None),
                       names if arr.ndim == 1 else None)
        lo = "(" if low_open else "["
        lo_txt = "-inf" if low is None else format_value(low)
        hi_txt = "inf)" if high is None else f"{format_value(high)}]"
        raise MarginInputError(
            f"{where} must be in {lo}{lo_txt}, {hi_txt}, got {format_value(arr[bad][0])}"
        )


def check_size(field: str, n, low: int, high: int) -> int:
    """Return ``n`` as int if it is a whole number in [low, high]."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
        raise MarginInputError(f"{field} must be a whole number, got {n!r}")
    if not low <= int(n) <= high:
        raise MarginInputError(f"{field} must be in [{low}, {high}], got {int(n)}")
    return int(n)


def check_correlation(field: str, corr: np.ndarray, names=None, tol: float = 1e-9) -> None:
    """Raise unless ``corr`` is a valid correlation matrix: symmetric, unit diagonal, PSD.

    Positive semi-definiteness is what makes a matrix a possible correlation of real returns; an
    inconsistent matrix (e.g. rho(A,B)=0.9, rho(B,C)=0.9, rho(A,C)=-0.9) has a negative eigenvalue.
    """
    n = corr.shape[0]
    if corr.ndim != 2 or corr.shape[1] != n:
        raise MarginInputError(f"{field} must be square, got shape {corr.shape}")
    check_range(field, corr, -1.0, 1.0)
    diag = np.diag(corr)
    off = np.flatnonzero(np.abs(diag - 1.0) > tol)
    if off.size:
        i = off[0]
        who = names[i] if names is not None else i
        raise MarginInputError(f"{field}[{who}, {who}] must be 1, got {format_value(diag[i])}")
    asym = np.abs(corr - corr.T) > tol
    if asym.any():
        i, j = np.argwhere(asym)[0]
        a, b = (names[i], names[j]) if names is not None else (i, j)
        raise MarginInputError(
            f"{field} must be symmetric, got {field}[{a}, {b}]={format_value(corr[i, j])} "
            f"but {field}[{b}, {a}]={format_value(corr[j, i])}"
        )
    lowest = float(np.linalg.eigvalsh(corr).min()) if n else 0.0
    if lowest < -1e-8:
        raise MarginInputError(
            f"{field} must be positive semi-definite (a possible correlation), "
            f"got smallest eigenvalue {lowest:.4g}"
        )


def freeze(arr: np.ndarray) -> np.ndarray:
    """Mark ``arr`` read-only so frozen dataclasses are immutable all the way down."""
    arr.flags.writeable = False
    return arr
