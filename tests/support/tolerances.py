"""Tolerances used across the tests, defined once.

Money
-----
The engine and the scalar reference (and a property and its restatement) add the same ~10 terms
in a different order, so they differ by rounding of order ``1e-16 x`` the money at stake. Money
comparisons therefore use a relative tolerance and an absolute one scaled by the book's gross
notional (:func:`money_atol`); quantities that should hold exactly are compared exactly.

* :data:`MONEY_RTOL` (``1e-9``) -- margin reports, one liquidation, a cascade (engine vs
  reference, conservation laws), with ``money_atol(book, P)`` (``1e-9 x (1 + notional)``).
* :data:`RULES_RTOL` (``1e-7``) and :data:`RULES_ATOL_REL` (``1e-8``) -- the liquidation
  conventions (issue 12): restore-health sizing solves for a fraction, so a few more operations
  per account than the plain rules; ``money_atol(book, P, rel=RULES_ATOL_REL)``.

Numbers shown in prose
----------------------
A lesson's text shows numbers rounded ("7.7M USD", "82 %", "12×"): :func:`shown_numbers` reads
them with the half-unit of their last digit, and :func:`shows` says whether a computed value is
one of them as displayed.
"""
from __future__ import annotations

import re
from decimal import Decimal

import numpy as np

MONEY_RTOL = 1e-9
RULES_RTOL = 1e-7
RULES_ATOL_REL = 1e-8


def book_notional(book, *price_rows) -> float:
    """Gross quote value of everything in ``book`` at the largest of the given price rows:
    holdings and perps at those prices, perps at their entry prices, cash and isolated margin
    (absolute values)."""
    P = np.max(np.atleast_2d(np.array(price_rows, dtype=float)), axis=0)
    return float((np.abs(book.holdings) * P).sum() + np.abs(book.cash).sum()
                 + (np.abs(book.perps) * P).sum() + (np.abs(book.perps) * book.entry_prices).sum()
                 + np.abs(book.isolated_margin).sum())


def money_atol(book, *price_rows, fund: float = 0.0, rel: float = MONEY_RTOL) -> float:
    """Absolute tolerance for money in ``book``: ``rel x (1 + gross notional + fund)``.

    >>> from widgets.engine import Account, Book
    >>> book = Book.from_accounts([Account([2.0], cash=-50.0)])
    >>> money_atol(book, [100.0])                   # 1e-9 x (1 + 200 + 50)
    2.51e-07
    """
    return rel * (1.0 + book_notional(book, *price_rows) + fund)


# A number as prose writes it: digits with thousands commas, decimals, then optionally "M"
# (millions, "7.7M USD", "16.53 M USD"). Signs are not read: prose writes "a fall of 5 %".
_SHOWN = re.compile(r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\s?M\b)?")


def shown_numbers(text: str) -> list:
    """``[(value, half_unit), ...]`` for every number in ``text``: '7.7M' -> (7.7e6, 5e4),
    '2,812.50' -> (2812.5, 0.005), '82' -> (82.0, 0.5).

    >>> shown_numbers("cross 7,150 USD; 16.53 M USD; 7.7M; 12×")
    [(7150.0, 0.5), (16530000.0, 5000.0), (7700000.0, 50000.0), (12.0, 0.5)]
    """
    out = []
    for whole, frac, mega in _SHOWN.findall(text):
        scale = Decimal(10**6 if mega else 1)
        value = Decimal(whole.replace(",", "") + frac) * scale
        half = Decimal(5).scaleb(-max(len(frac) - 1, 0) - 1) * scale
        out.append((float(value), float(half)))
    return out


def shows(value: float, half_unit: float, shown: tuple) -> bool:
    """Whether a computed ``value`` (itself printed with ``half_unit`` of rounding) is the number
    ``shown = (number, its half_unit)`` as displayed: they differ by at most the coarser
    rounding. Absolute values are compared, since prose drops signs. A one-digit whole number
    ('0', '1', '8') is not read as a rounding: it must be the value itself, or the '1' of
    '1/1.05' would stand for anything from 0.5 to 1.5 ('0.07 M', with its decimals, is one).

    >>> shows(7.69e6, 5e3, (7.7e6, 5e4)), shows(12.4, 0.05, (12.0, 0.5))
    (True, True)
    >>> shows(0.845, 5e-5, (1.0, 0.5)), shows(8.0, 0.05, (8.0, 0.5))
    (False, True)
    """
    number, shown_half = shown
    coarse = 0.0 if (shown_half == 0.5 and number < 10) else shown_half
    slack = max(coarse, half_unit) * (1 + 1e-9)
    return abs(abs(value) - number) <= slack
