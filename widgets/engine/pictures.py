"""The mechanism pictures' scenarios and measures: bracket ladders, the spiral pair, the ADL queue.

The four pictures of lessons 1, 4, 6 and 8 (``BracketChart``, ``SpiralChart``,
``AdlQueueChart``, ``PolicyFrontier``) draw what these functions compute; the components only
name and draw them (the Mesa rule: the model computes, the view shows).

* :func:`bracket_ladder` — maintenance rate and liquidation price of isolated longs of one
  asset by position size (:func:`bracket_sizes`, :func:`max_leverage`).
* :func:`spiral_pair` and :func:`spiral_path` — two borrowers either side of the toxic
  liquidation spiral's frontier, and their path under a fixed close factor.
* :func:`adl_example` and :func:`open_units` — lesson 6's three shorts, and how many units one
  side of one perp holds (how much a bankrupt position can be closed against).
"""
from __future__ import annotations

import reprlib
from dataclasses import dataclass

import numpy as np

from ._validate import MarginInputError, as_float_array, check_range
from .book import Account, Book, as_book
from .limits import liquidation_price
from .market import Market
from .mechanics import LiquidationPath, liquidation_path, ltv_frontier
from .rulebook import LiquidationRules, resolve_rules

#: Position sizes drawn for an asset with one rate (no brackets), USD of notional.
FLAT_RANGE = (1e4, 1e7)
_BELOW_FLOOR = 0.995          # the largest size stays just under the barring floor
_NO_LIMIT_LEVERAGE = 1_000.0  # max leverage of a bracket with a 0 initial rate


def max_leverage(market: Market, asset: str) -> float:
    """The highest leverage ``asset``'s smallest positions may open: ``1 / initial`` rate of its
    first bracket (1,000 when that rate is 0).

    Binance USDⓈ-M "leverage and margin" tiers list the max leverage of each notional bracket as
    the inverse of its initial margin rate.

    Examples
    --------
    >>> max_leverage(Market(["BTC"], [50_000.0], maintenance_margin=0.004,
    ...                     initial_margin=0.008), "BTC")
    125.0
    """
    first = market.bracket_table(asset)["initial"][0]
    return 1.0 / first if first > 0 else _NO_LIMIT_LEVERAGE


def check_leverage(market: Market, asset: str, leverage) -> float:
    """``leverage`` as a float if it is above 1 and at most :func:`max_leverage`; else raise
    :class:`MarginInputError` naming the limit."""
    top = max_leverage(market, asset)
    lev = float(as_float_array("leverage", leverage))
    if not 1.0 < lev <= top * (1 + 1e-12):
        raise MarginInputError(f"leverage must be above 1 and at most {top:g} (the max leverage "
                               f"of {asset}'s smallest positions), got {lev:g}")
    return lev


def bracket_sizes(market: Market, asset: str, leverage: float) -> tuple[float, float]:
    """Smallest and largest position notional worth drawing for ``asset`` at ``leverage``.

    From a fifth of the first bracket's ceiling up to just under the floor of the first bracket
    whose initial rate (``1 / max leverage``) does not allow ``leverage``; when every bracket
    allows it, up to five times the last bracket's floor. An asset with a single rate gives
    :data:`FLAT_RANGE`. Only the market's bracket table is read.

    Examples
    --------
    >>> b = {"BTC": {"floor": [0, 50_000, 250_000, 1_000_000, 10_000_000, 20_000_000],
    ...              "maintenance": [0.004, 0.005, 0.01, 0.025, 0.05, 0.10],
    ...              "initial": [0.008, 0.01, 0.02, 0.05, 0.10, 0.20]}}
    >>> m = Market(["BTC"], [50_000.0], brackets=b)
    >>> bracket_sizes(m, "BTC", 10)       # 20,000,000 USD and up allow 5x at most
    (10000.0, 19900000.0)
    >>> bracket_sizes(m, "BTC", 2)
    (10000.0, 100000000.0)
    """
    table = market.bracket_table(asset)
    floors, initial = table["floor"], table["initial"]
    if len(floors) < 2:
        return FLAT_RANGE
    lo = floors[1] / 5
    barred = [f for f, im in zip(floors, initial) if im * leverage > 1 + 1e-9]
    hi = barred[0] * _BELOW_FLOOR if barred else 5 * floors[-1]
    return float(lo), float(hi)


@dataclass(frozen=True, eq=False)
class BracketLadder:
    """Record of :func:`bracket_ladder`: isolated longs of one asset, by position size.

    Attributes
    ----------
    asset : str
    leverage, entry_price : float
        Notional ÷ margin posted; the longs' entry price.
    sizes : ndarray
        Position notionals (USD), a geometric grid from :func:`bracket_sizes`.
    maintenance_rates : ndarray
        Maintenance requirement ÷ notional at each size.
    liquidation_prices : ndarray
        Liquidation price of each long (NaN-free; ``inf``/``nan`` never occur for a long
        posted less than its notional).
    moves : ndarray
        ``liquidation_price / entry_price - 1``: the price move that liquidates each long.
    """

    asset: str
    leverage: float
    entry_price: float
    sizes: np.ndarray
    maintenance_rates: np.ndarray
    liquidation_prices: np.ndarray
    moves: np.ndarray


def bracket_ladder(market: Market, asset: str, leverage: float, entry_price=None,
                   n: int = 300) -> BracketLadder:
    """Maintenance rate and liquidation price of isolated longs of ``asset`` by position size.

    For ``n`` notionals on the geometric grid of :func:`bracket_sizes`, one isolated long each,
    entered at ``entry_price`` with ``notional / leverage`` posted to its bucket: the
    maintenance rate :meth:`Market.maintenance_requirement` ÷ notional (``N x rate[k] -
    amount[k]`` in bracket ``k``) and :func:`~widgets.engine.liquidation_price`.

    Parameters
    ----------
    market : Market
    asset : str
        One of ``market.assets``.
    leverage : float
        Above 1 and at most :func:`max_leverage` (:func:`check_leverage`).
    entry_price : float, optional
        Above 0; default the market price.
    n : int, default 300

    Returns
    -------
    BracketLadder

    References
    ----------
    Binance, "How to calculate liquidation price of USDⓈ-M contracts" (maintenance amount
    ``cum``): https://www.binance.com/en/support/faq/b3c689c1f50a44cabb3a84e663b81d93 ;
    Hyperliquid docs, "Margin tiers":
    https://hyperliquid.gitbook.io/hyperliquid-docs/trading/margin-tiers

    Examples
    --------
    One rate of 0.4 %, 10x: 0.2 BTC entered at 50,000, 1,000 USD posted; liquidated where
    ``1,000 + 0.2 (P - 50,000) = 0.004 x 0.2 P``, P = 9,000 / 0.1992 = 45,180.72:

    >>> m = Market(["BTC"], [50_000.0], maintenance_margin=0.004, initial_margin=0.008)
    >>> lad = bracket_ladder(m, "BTC", 10, n=2)
    >>> lad.sizes.tolist(), lad.maintenance_rates.round(4).tolist()
    ([10000.0, 10000000.0], [0.004, 0.004])
    >>> round(float(lad.liquidation_prices[0]), 2), round(float(lad.moves[0]), 4)
    (45180.72, -0.0964)
    """
    i = market.index(asset)
    lev = check_leverage(market, asset, leverage)
    entry = float(market.prices[i]) if entry_price is None else \
        float(as_float_array("entry_price", entry_price))
    check_range("entry_price", np.asarray(entry), 0.0, None, low_open=True)
    lo, hi = bracket_sizes(market, asset, lev)
    sizes = np.geomspace(lo, hi, int(n))
    k = market.n_assets
    perps, entries, posted = np.zeros((sizes.size, k)), np.zeros((sizes.size, k)), \
        np.zeros((sizes.size, k))
    perps[:, i], entries[:, i], posted[:, i] = sizes / entry, entry, sizes / lev
    longs = Book.from_accounts([Account(np.zeros(k), perps=p, entry_prices=e, mode="isolated",
                                        isolated_margin=m)
                                for p, e, m in zip(perps, entries, posted)])
    lp = np.asarray(liquidation_price(longs, market, asset), dtype=float)
    cells = np.zeros((sizes.size, k))
    cells[:, i] = sizes
    rates = market.maintenance_requirement(cells)[:, i] / sizes
    return BracketLadder(asset, lev, entry, sizes, rates, lp, lp / entry - 1.0)


def spiral_pair(market: Market, rules=None) -> tuple[Book, np.ndarray]:
    """Two borrowers of 5 ETH either side of the spiral's frontier, and their LTVs.

    A at LTV 0.92 (below the frontier); B a quarter of the way from the frontier
    (:func:`~widgets.engine.ltv_frontier`, at most 0.996) to 1, rounded to 3 decimals: above it,
    every partial liquidation raises B's LTV (Warmuz, Chaudhary and Pinna, arXiv:2212.07306).

    Examples
    --------
    On ``Market.example()`` the ETH penalty is 1.25 % on the debt: frontier 1 / 1.0125 = 0.988,
    B at 0.988 + (1 - 0.988) / 4 = 0.991:

    >>> book, ltv = spiral_pair(Market.example())
    >>> ltv.tolist(), book.n_accounts
    ([0.92, 0.991], 2)
    """
    e = market.index("ETH")
    h = np.zeros(market.n_assets)
    h[e] = 5.0
    value = 5.0 * float(market.prices[e])
    probe = Book.from_accounts([Account(h, cash=-0.9 * value)])
    fr = min(float(ltv_frontier(probe, market, rules=rules)[0]), 0.996)
    ltvs = np.array([0.92, round(fr + (1.0 - fr) / 4, 3)])
    return Book.from_accounts([Account(h, cash=-ltv * value) for ltv in ltvs]), ltvs


def spiral_path(book, market: Market, close_factor: float, calls: int,
                rules=None) -> LiquidationPath:
    """:func:`~widgets.engine.liquidation_path` closing the fixed fraction ``close_factor`` per
    call, with the penalty basis and protocol share of ``rules`` (default the market's).

    The spiral's knob is the fraction; ``rules`` only says whose penalty convention applies
    (Aave's bonus on the debt repaid, or the old penalty on the notional sold).

    Examples
    --------
    >>> m = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
    >>> b = Book.from_accounts([Account([5.0], cash=-9_600.0)])
    >>> spiral_path(b, m, 0.5, 1, rules="aave").ltv.round(4).tolist()   # 4,840 / 5,000
    [[0.96], [0.968]]
    """
    if rules is not None:
        base = resolve_rules(market, rules)
        rules = LiquidationRules("fraction", close_factor=close_factor,
                                 protocol_share=base.protocol_share,
                                 penalty_basis=base.penalty_basis)
    return liquidation_path(book, market, close_factor, calls, rules=rules)


@dataclass(frozen=True, eq=False)
class AdlExample:
    """Record of :func:`adl_example`: a book, its accounts' names, the perp, a bankruptcy price."""

    book: Book
    names: tuple
    asset: str
    bankruptcy_price: float


def adl_example(market: Market) -> AdlExample:
    """Lesson 6's three shorts of 1 unit of ``market``'s first asset (prices scaled to its mark).

    Entries 1.80, 1.05 and 1.01 x the mark ``P``, equity 3.3, 0.5 and 0.2 x ``P``: a 0.3x hedge
    opened before the fall, a 2x short and a 5x short opened during it. Each has cash
    ``(equity - (entry - 1)) P`` so that cash plus the short's unrealized profit ``(entry - 1) P``
    is its equity. A bankrupt long is closed against them at ``1.03 P``.

    Examples
    --------
    >>> ex = adl_example(Market(["X"], [100.0]))
    >>> ex.book.entry_prices[:, 0].tolist(), ex.book.cash.round(6).tolist()
    ([180.0, 105.0, 101.0], [250.0, 45.0, 19.0])
    >>> ex.bankruptcy_price, ex.names[0]
    (103.0, '0.3x hedge, short early')
    """
    P = float(market.prices[0])
    accounts = []
    for entry, equity in ((1.80, 3.30), (1.05, 0.50), (1.01, 0.20)):
        perps, ep = np.zeros(market.n_assets), np.zeros(market.n_assets)
        perps[0], ep[0] = -1.0, entry * P
        accounts.append(Account(np.zeros(market.n_assets), perps=perps, entry_prices=ep,
                                cash=(equity - (entry - 1.0)) * P))
    names = ("0.3x hedge, short early", "2x short, mid-fall", "5x short, at the bottom")
    return AdlExample(Book.from_accounts(accounts), names, market.assets[0], 1.03 * P)


def open_units(book, market: Market, asset: str, side: str) -> float:
    """Units of ``asset``'s perp held on ``side`` (``"long"`` or ``"short"``) over the book.

    The most a bankrupt position on the other side can be closed against (auto-deleveraging
    closes it against this side's positions, BitMEX / dYdX v4 / Hyperliquid).

    Examples
    --------
    >>> m = Market(["X"], [100.0])
    >>> b = Book.from_accounts([Account([0.0], perps=[q], entry_prices=[100.0])
    ...                         for q in (-1.0, -0.5, 2.0)])
    >>> open_units(b, m, "X", "short"), open_units(b, m, "X", "long")
    (1.5, 2.0)
    """
    book, _ = as_book(book, market, "book")
    i = market.index(asset)
    if side not in ("long", "short"):
        raise MarginInputError(f"side must be 'long' or 'short', got {reprlib.repr(side)}")
    q = np.asarray(book.perps, dtype=float)[:, i]
    return float(np.clip(q if side == "long" else -q, 0.0, None).sum())
