"""The margin engine: plain numpy, vectorized over accounts and scenarios.

Public names (one flat namespace, QuantEcon style):

* :class:`Market` — a venue's rulebook and prices; :meth:`Market.example`.
* :class:`Account`, :class:`Book` — one account, many accounts as arrays.
* :func:`margin_report` — equity, health, health factor, margin ratio, buckets, breakdown.
* :func:`liquidate` — account-level liquidation with penalty, insurance fund and bad debt.
* :func:`cascade` — shock, liquidate, price impact, repeat until no account fails.
* :func:`correlated_returns`, :func:`stress_correlation`, :func:`liquidation_probability`.

Importing this package loads numpy only (no Jupyter libraries), so it runs and tests anywhere.
Units: money in the quote currency; weights, margins, shocks and returns as fractions.
"""
from ._validate import MarginInputError
from .book import Account, Book
from .cascade import CascadeResult, cascade, price_impact
from .liquidation import LiquidationEvent, LiquidationResult, liquidate
from .margin import MarginReport, margin_report
from .market import Market
from .scenarios import correlated_returns, liquidation_probability, stress_correlation

__all__ = [
    "MarginInputError", "Market", "Account", "Book",
    "MarginReport", "margin_report",
    "LiquidationResult", "LiquidationEvent", "liquidate",
    "CascadeResult", "cascade", "price_impact",
    "correlated_returns", "stress_correlation", "liquidation_probability",
]
