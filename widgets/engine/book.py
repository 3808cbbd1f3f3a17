"""Accounts and books of accounts.

An account holds signed spot ``holdings`` (negative = borrowed, a debt position), a quote-currency
``cash`` balance (negative = quote debt), signed perpetual-futures sizes ``perps`` with their
``entry_prices``, and a margin ``mode``:

* ``"cross"``: one pool — holdings, cash and every perp back each other (Binance cross margin,
  dYdX v4 subaccounts, Mango health, Aave accounts).
* ``"isolated"``: every perp position has its own bucket holding ``isolated_margin`` (quote
  currency posted to that bucket) and nothing else backs it; the holdings and cash stay outside
  every bucket in a pool of their own (Binance isolated margin: ``TMM = uPnL_others = 0``).

A :class:`Book` is many accounts as ``(n_accounts, n_assets)`` arrays; every engine function is
vectorized over its rows.
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ._validate import (
    MAX_ACCOUNTS,
    MarginInputError,
    as_float_array,
    check_range,
    check_size,
    freeze,
)

MODES = ("cross", "isolated")


def pool_stack(holdings, cross_perps, cash) -> np.ndarray:
    """The price-independent matrix ``[h+; h-; q+; q-; cash+; cash-]``, shape (4n + 2, A).

    Splitting positions into positive and negative parts once, at construction, turns every pool
    sum of a margin report (weighted collateral and liabilities, perp mark value, requirements)
    into one matrix product with a price-dependent weight matrix (see :func:`._pool.pool_sums`).
    Accounts run along the rows' long axis: ``W.T @ stack`` with a (6, 4n + 2) left factor runs
    several times faster in OpenBLAS than ``stack.T @ W`` with a tall, narrow left factor.
    """
    n = holdings.shape[1]
    stack = np.empty((4 * n + 2, holdings.shape[0]))
    np.maximum(holdings.T, 0.0, out=stack[0:n])
    np.maximum(-holdings.T, 0.0, out=stack[n:2 * n])
    np.maximum(cross_perps.T, 0.0, out=stack[2 * n:3 * n])
    np.maximum(-cross_perps.T, 0.0, out=stack[3 * n:4 * n])
    np.maximum(cash, 0.0, out=stack[4 * n])
    np.maximum(-cash, 0.0, out=stack[4 * n + 1])
    return stack


def _check_mode(mode) -> None:
    if mode not in MODES:
        raise MarginInputError(f"mode must be 'cross' or 'isolated', got {mode!r}")


@dataclass(frozen=True, eq=False)
class Account:
    """One account: spot holdings, cash, perp positions and a margin mode.

    Parameters
    ----------
    holdings : array_like, shape (n_assets,)
        Signed spot quantities in asset units; negative means borrowed (a debt position).
    perps : array_like, shape (n_assets,), optional
        Signed perpetual-futures sizes in asset units (long > 0). Default: none.
    entry_prices : array_like, shape (n_assets,), optional
        Entry price of each perp, > 0 where a perp is open. Required when any perp is open.
    mode : {"cross", "isolated"}
        Margin mode (see module docstring).
    isolated_margin : array_like, shape (n_assets,), optional
        Quote currency posted to each perp's bucket, >= 0; only for ``mode="isolated"``.
    cash : float, default 0
        Quote-currency balance; negative is a quote-currency debt.

    Examples
    --------
    10 ETH deposited against a 17,000 USDC loan (the quote debt is ``cash``):

    >>> acct = Account([10.0], cash=-17_000.0)
    >>> acct.holdings.tolist(), acct.cash
    ([10.0], -17000.0)
    """

    holdings: np.ndarray
    perps: np.ndarray = None
    entry_prices: np.ndarray = None
    mode: str = "cross"
    isolated_margin: np.ndarray = None
    cash: float = 0.0

    def __post_init__(self):
        if np.ndim(self.holdings) != 1:
            raise MarginInputError(f"holdings must have shape (n_assets,), got shape "
                                   f"{np.shape(self.holdings)} (use Book for many accounts)")
        book = Book(holdings=[self.holdings],
                    perps=None if self.perps is None else [self.perps],
                    entry_prices=None if self.entry_prices is None else [self.entry_prices],
                    mode=self.mode,
                    isolated_margin=None if self.isolated_margin is None else [self.isolated_margin],
                    cash=[self.cash] if np.ndim(self.cash) == 0 else self.cash,
                    _shape_for="account")
        object.__setattr__(self, "holdings", book.holdings[0])
        object.__setattr__(self, "perps", book.perps[0])
        object.__setattr__(self, "entry_prices", book.entry_prices[0])
        object.__setattr__(self, "isolated_margin", book.isolated_margin[0])
        object.__setattr__(self, "cash", float(book.cash[0]))

    @property
    def n_assets(self) -> int:
        return self.holdings.shape[0]

    def to_book(self) -> "Book":
        """This account as a one-row :class:`Book`."""
        return Book.from_accounts([self])

    def replace(self, **changes) -> "Account":
        """A new, re-validated account with some fields changed."""
        return dataclasses.replace(self, **changes)

    @classmethod
    def from_positions(cls, market, holdings=None, perps=None, entry_prices=None, cash=0.0,
                       mode="cross", isolated_margin=None) -> "Account":
        """Build an account from ``{asset: amount}`` mappings against ``market``.

        Perps without an entry price are taken as opened at the market's current price.

        Examples
        --------
        >>> from widgets.engine import Market
        >>> m = Market.example()
        >>> a = Account.from_positions(m, holdings={"ETH": 10}, cash=-17_000)
        >>> a.holdings.tolist()
        [0.0, 10.0, 0.0, 0.0]
        """
        h = market.per_asset("holdings", holdings if holdings is not None else 0.0)
        q = market.per_asset("perps", perps if perps is not None else 0.0)
        ep = np.where(q != 0, market.prices, 0.0)
        if entry_prices is not None:
            given = entry_prices if isinstance(entry_prices, dict) else dict(
                zip(market.assets, np.broadcast_to(entry_prices, (market.n_assets,))))
            for name, v in given.items():
                ep[market.index(name)] = v
        m = None if isolated_margin is None else market.per_asset("isolated_margin", isolated_margin)
        return cls(holdings=h, perps=q, entry_prices=ep, mode=mode, isolated_margin=m, cash=cash)


@dataclass(frozen=True, eq=False)
class Book:
    """Many accounts as arrays (rows are accounts, columns are the market's assets).

    Parameters
    ----------
    holdings : array_like, shape (n_accounts, n_assets)
    perps, entry_prices, isolated_margin : array_like, shape (n_accounts, n_assets), optional
    mode : str or sequence of str, shape (n_accounts,)
        ``"cross"`` or ``"isolated"`` per account (a single string applies to all).
    cash : array_like, shape (n_accounts,), optional

    Field meanings are those of :class:`Account`. Arrays are copied and made read-only, so a
    book can never be changed in place; engine functions return new books.

    Examples
    --------
    >>> b = Book.from_accounts([Account([1.0, 0.0]), Account([0.0, 2.0], cash=-10.0)])
    >>> b.n_accounts, b.n_assets
    (2, 2)
    """

    holdings: np.ndarray
    perps: np.ndarray = None
    entry_prices: np.ndarray = None
    mode: object = "cross"
    isolated_margin: np.ndarray = None
    cash: np.ndarray = None
    _shape_for: str = field(default="book", repr=False)
    # Price-independent pieces precomputed once so a margin report is a few mat-vec products.
    _stack: np.ndarray = field(init=False, repr=False)
    _entry_notional: np.ndarray = field(init=False, repr=False)
    _iso_rows: np.ndarray = field(init=False, repr=False)
    _iso_pool_empty: np.ndarray = field(init=False, repr=False)

    def __post_init__(self):
        h = as_float_array("holdings", self.holdings)
        if h.ndim != 2 or h.shape[1] == 0:
            want = "(n_assets,)" if self._shape_for == "account" else "(n_accounts, n_assets)"
            raise MarginInputError(f"holdings must have shape {want}, got shape "
                                   f"{h.shape if self._shape_for == 'book' else h.shape[1:]}")
        n_acc, n = h.shape
        check_size("n_accounts", n_acc, 1 if self._shape_for == "account" else 0, MAX_ACCOUNTS)
        shape = (n_acc, n)

        def per_cell(name, value, default=0.0):
            if value is None:
                return np.full(shape, default)
            arr = as_float_array(name, value)
            if arr.shape != shape:
                got = arr.shape[1:] if self._shape_for == "account" else arr.shape
                want = shape[1:] if self._shape_for == "account" else shape
                raise MarginInputError(f"{name} must have shape {want}, got shape {got}")
            return arr

        q = per_cell("perps", self.perps)
        ep = per_cell("entry_prices", self.entry_prices)
        open_ = q != 0
        if self.entry_prices is None and open_.any():
            raise MarginInputError("entry_prices is required when perps are open, got None")
        bad_ep = open_ & (ep <= 0)
        if bad_ep.any():
            r, c = np.argwhere(bad_ep)[0]
            raise MarginInputError(
                f"entry_prices must be > 0 where a perp is open, got {float(ep[r, c])} "
                f"(account {r}, asset {c})")
        ep = np.where(open_, ep, 0.0)

        if isinstance(self.mode, str):
            _check_mode(self.mode)
            isolated = np.full(n_acc, self.mode == "isolated")
        else:
            modes = (self.mode if isinstance(self.mode, np.ndarray)
                     else np.asarray(list(self.mode), dtype=object))
            if modes.shape != (n_acc,):
                raise MarginInputError(f"mode must have {n_acc} entries, got {modes.size}")
            isolated = modes == "isolated"
            bad = ~(isolated | (modes == "cross"))
            if bad.any():                      # vectorized: books can hold millions of rows
                _check_mode(modes[bad][0])
            isolated = isolated.astype(bool)

        m = per_cell("isolated_margin", self.isolated_margin)
        check_range("isolated_margin", m, 0.0, None)
        stray = (m > 0) & ~isolated[:, None]
        if stray.any():
            r = int(np.argwhere(stray)[0][0])
            raise MarginInputError(
                f"isolated_margin applies only to mode='isolated', got "
                f"{float(m[stray][0])} on a cross account (account {r})")

        cash = np.zeros(n_acc) if self.cash is None else as_float_array("cash", self.cash)
        if cash.shape != (n_acc,):
            raise MarginInputError(f"cash must have shape ({n_acc},), got shape {cash.shape}")

        # Validation done; build the immutable state.
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        set_("holdings", freeze(h))
        set_("perps", freeze(q))
        set_("entry_prices", freeze(ep))
        set_("isolated_margin", freeze(m))
        set_("cash", freeze(cash))
        set_("mode", freeze(np.where(isolated, "isolated", "cross")))
        cross_q = np.where(isolated[:, None], 0.0, q)
        stack = pool_stack(h, cross_q, cash)
        set_("_stack", freeze(stack))
        set_("_entry_notional", freeze(np.einsum("ij,ij->i", cross_q, ep)))
        set_("_iso_rows", freeze(np.flatnonzero(isolated)))
        iso_rows = self._iso_rows
        # An isolated account's pool with no holdings and no debt can never fail (issue 12).
        set_("_iso_pool_empty", freeze(~(h[iso_rows] != 0).any(1) & (cash[iso_rows] >= 0)))

    @classmethod
    def _trusted(cls, holdings, perps, entry_prices, isolated, isolated_margin, cash,
                 stack=None, entry_notional=None, mode=None) -> "Book":
        """A book from arrays the engine itself produced (no validation; arrays are taken over
        and made read-only, not copied).

        For engine results only (a liquidation's or cascade's book): the arrays satisfy every
        invariant ``__post_init__`` checks because they were derived from a validated book by
        the engine's own rules. ``stack`` and ``entry_notional`` may be passed when already
        up to date; ``mode`` (a read-only mode array matching ``isolated``) is shared as it is.
        """
        self = object.__new__(cls)
        set_ = lambda k, v: object.__setattr__(self, k, v)  # noqa: E731 (frozen dataclass)
        ep = np.where(perps != 0, entry_prices, 0.0)
        set_("holdings", freeze(holdings))
        set_("perps", freeze(perps))
        set_("entry_prices", freeze(ep))
        set_("isolated_margin", freeze(isolated_margin))
        set_("cash", freeze(cash))
        set_("mode", mode if mode is not None else freeze(np.where(isolated, "isolated", "cross")))
        set_("_shape_for", "book")
        if stack is None or entry_notional is None:
            cross_q = np.where(isolated[:, None], 0.0, perps)
            stack = pool_stack(holdings, cross_q, cash)
            entry_notional = np.einsum("ij,ij->i", cross_q, ep)
        set_("_stack", freeze(stack))
        set_("_entry_notional", freeze(entry_notional))
        iso_rows = np.flatnonzero(isolated)
        set_("_iso_rows", freeze(iso_rows))
        set_("_iso_pool_empty", freeze(~(holdings[iso_rows] != 0).any(1)
                                       & (cash[iso_rows] >= 0)))
        return self

    # -- shape and views -------------------------------------------------------------------
    @property
    def n_accounts(self) -> int:
        return self.holdings.shape[0]

    @property
    def n_assets(self) -> int:
        return self.holdings.shape[1]

    @property
    def isolated(self) -> np.ndarray:
        """Boolean mask of accounts in isolated mode, shape (n_accounts,)."""
        mask = np.zeros(self.n_accounts, dtype=bool)
        mask[self._iso_rows] = True             # cheaper than comparing the mode strings
        return mask

    def account(self, i: int) -> Account:
        """Row ``i`` as an :class:`Account`."""
        i = check_size("account index", i, -self.n_accounts, self.n_accounts - 1)
        return Account(self.holdings[i], self.perps[i], self.entry_prices[i], str(self.mode[i]),
                       self.isolated_margin[i] if self.mode[i] == "isolated" else None,
                       float(self.cash[i]))

    def replace(self, **changes) -> "Book":
        """A new, re-validated book with some fields changed."""
        return dataclasses.replace(self, **changes)

    def check_market(self, market) -> None:
        """Raise unless this book's columns match ``market``'s assets."""
        if self.n_assets != market.n_assets:
            raise MarginInputError(
                f"book must have one column per market asset ({market.n_assets}: "
                f"{', '.join(market.assets)}), got {self.n_assets} columns")

    # -- constructors ----------------------------------------------------------------------
    @classmethod
    def from_accounts(cls, accounts) -> "Book":
        """Stack :class:`Account` objects into a book (same number of assets each)."""
        accounts = list(accounts)
        if not accounts:
            raise MarginInputError("accounts must contain at least one Account, got []")
        if not all(isinstance(a, Account) for a in accounts):
            raise MarginInputError("accounts must all be Account objects")
        sizes = {a.n_assets for a in accounts}
        if len(sizes) > 1:
            raise MarginInputError(f"accounts must all have the same number of assets, got {sorted(sizes)}")
        return cls(
            holdings=np.stack([a.holdings for a in accounts]),
            perps=np.stack([a.perps for a in accounts]),
            entry_prices=np.stack([a.entry_prices for a in accounts]),
            mode=[a.mode for a in accounts],
            isolated_margin=np.stack([a.isolated_margin for a in accounts]),
            cash=np.array([a.cash for a in accounts]),
        )

    @classmethod
    def random(cls, market, n_accounts: int, seed=None, *, isolated_share: float = 0.3,
               long_bias: float = 0.7, median_equity: float = 10_000.0,
               stable: str | None = None, preset: str | None = "calm") -> "Book":
        """A reproducible population of accounts with realistic, varied leverage.

        Every account starts within its initial-margin limits (no one is liquidatable at
        ``market.prices``) but uses a random share of its borrowing and perp capacity, so
        distances to liquidation range from a few percent to very safe.

        Construction (per account, vectorized):

        * equity ~ lognormal with median ``median_equity`` and log-sd 1.2 (account sizes on
          retail venues are heavy-tailed);
        * a share of the equity sits in spot crypto (a random mix of the volatile assets),
          some accounts borrowing quote currency against it (margin longs);
        * perp notional = ``utilisation x max leverage x equity`` on one or two volatile assets,
          long with probability ``long_bias`` (crypto books are long-biased), utilisation ~
          Beta(2, 3) so most accounts keep a buffer and a few run near the limit;
        * ``isolated_share`` of the accounts use isolated mode, posting each perp's initial margin
          times a random buffer to its bucket.

        Parameters
        ----------
        market : Market
        n_accounts : int, 1 .. 5,000,000
        seed : int or None
            Seed for ``numpy.random.default_rng``; the same seed gives the same book.
        stable : str, optional
            Name of the stablecoin asset (never used as a risky leg). Default: the
            lowest-volatility asset when its volatility is below 1 %, else none.
        preset : {"calm", "overheated", "legacy"}, default "calm"
            How perp leverage (perp notional / account equity) is drawn:

            * ``"calm"``: lognormal with median 0.20x and 95th percentile 5.1x, the leverage
              distribution of Hyperliquid accounts reconstructed on chain around 10 October
              2025 (ConejoCapital/HyperMultiAssetedADL, 437,723 accounts; domain.md section 5)
              — most accounts hold little leverage, a thin tail holds a lot;
            * ``"overheated"``: lognormal with median 5x and 95th percentile 18.6x (log-sd 0.8)
              — illustrative, not measured: a crowd whose typical liquidation line sits within
              15-20 % of the price, so that a -13 % BTC move (10 October 2025) liquidates about a
              third of leveraged accounts, the scale of that day's 1.6 million liquidated traders
              (domain.md section 5; order of magnitude only);
            * ``"legacy"``: ``utilisation x max leverage`` with utilisation ~ Beta(2, 3) (the
              earlier construction, heavily leveraged).

            Every preset caps leverage at 98 % of what initial margin allows, so nobody starts
            liquidatable.

        Examples
        --------
        >>> from widgets.engine import Market, margin_report
        >>> m = Market.example()
        >>> b = Book.random(m, 1000, seed=7)
        >>> bool(margin_report(b, m).liquidatable.any())
        False
        """
        n_acc = check_size("n_accounts", n_accounts, 1, MAX_ACCOUNTS)
        for name, v in (("isolated_share", isolated_share), ("long_bias", long_bias)):
            check_range(name, np.array(float(v)), 0.0, 1.0)
        check_range("median_equity", np.array(float(median_equity)), 0.0, None, low_open=True)
        rng = np.random.default_rng(seed)
        n = market.n_assets
        P = market.prices
        if stable is None:
            k = int(np.argmin(market.volatility))
            stable_idx = k if market.is_stablecoin[k] and n > 1 else None
        else:
            stable_idx = market.index(stable)
        risky = np.array([i for i in range(n) if i != stable_idx])
        rows = np.arange(n_acc)

        equity = median_equity * np.exp(1.2 * rng.standard_normal(n_acc))
        isolated = rng.random(n_acc) < isolated_share

        # Spot: a share of equity in risky assets; some accounts borrow quote to buy more.
        spot_share = rng.uniform(0.0, 1.0, n_acc)
        mix = rng.dirichlet(np.ones(risky.size), n_acc)            # (n_acc, n_risky)
        avg_w = mix @ market.asset_weight[risky]
        # Borrow b per unit of own spot keeps the pool healthy while (1 + b) w - b >= 0.
        max_b = np.minimum(avg_w / np.maximum(1.0 - avg_w, 1e-9), 5.0)
        b = np.where(rng.random(n_acc) < 0.35, rng.beta(2, 3, n_acc) * max_b, 0.0)
        holdings = np.zeros((n_acc, n))
        holdings[:, risky] = (equity * spot_share * (1 + b))[:, None] * mix / P[risky]
        cash = equity * (1 - spot_share) - equity * spot_share * b
        # Initial health of the spot pool: what is left to back perps.
        free = equity * spot_share * ((1 + b) * avg_w - b) + cash
        free = np.clip(free, 0.0, None)

        # Perps on one or two risky assets, using a share `util` of the free initial margin.
        n_legs = 1 + (rng.random(n_acc) < 0.4)
        if risky.size < 2:
            n_legs = np.ones(n_acc, dtype=int)
        # The second leg is on a different asset, so two legs never net out to nothing.
        first = rng.integers(0, risky.size, n_acc)
        second = (first + rng.integers(1, max(risky.size, 2), n_acc)) % risky.size
        legs = np.stack([risky[first], risky[second]], axis=1)
        side = np.where(rng.random((n_acc, 2)) < long_bias, 1.0, -1.0)
        util = 0.98 * rng.beta(2, 3, n_acc)
        # Isolated buckets get `buffer` x initial margin, buffer in [1, 1/util] so the posted
        # margin never exceeds the free initial margin.
        buffer = 1.0 + (1.0 / np.maximum(util, 1e-6) - 1.0) * rng.random(n_acc) * 0.98
        im = np.maximum(market.initial_margin, 1e-3)
        perps = np.zeros((n_acc, n))
        iso_margin = np.zeros((n_acc, n))
        if preset not in ("legacy", "calm", "overheated"):
            raise MarginInputError(
                f"preset must be one of ['calm', 'overheated', 'legacy'], got {preset!r}")
        if preset != "legacy":
            med, sd = (0.20, (np.log(5.1) - np.log(0.20)) / 1.645) if preset == "calm" else (5.0, 0.8)
            lev = med * np.exp(sd * rng.standard_normal(n_acc))
            # Perp notional per leg; the cap keeps the leg within initial margin. ``util`` then
            # records the share of the free initial margin the account uses (for the buffers).
            cap = 0.98 * free / n_legs
            lev_notional = lev * equity / n_legs
            used = sum(np.where(k < n_legs, np.minimum(lev_notional, cap / im[legs[:, k]])
                                * im[legs[:, k]], 0.0) for k in range(2))
            util = np.clip(used / np.maximum(free, 1e-12), 1e-6, 0.98)
            buffer = 1.0 + (1.0 / util - 1.0) * rng.random(n_acc) * 0.98
        for leg in range(2):
            active = leg < n_legs
            a = legs[:, leg]
            if preset == "legacy":
                notional = np.where(active, util * free / n_legs / im[a], 0.0)
            else:
                notional = np.where(active, np.minimum(lev_notional, cap / im[a]), 0.0)
            np.add.at(perps, (rows, a), side[:, leg] * notional / P[a])
            np.add.at(iso_margin, (rows, a),
                      np.where(isolated, notional * im[a] * buffer, 0.0))
        cash = cash - iso_margin.sum(1)           # buckets are funded from the pool's cash
        # Entry prices scatter around today's price (open PnL), except where that would break
        # the account's initial margin: those positions are taken as just opened.
        entry = np.where(perps != 0, P * np.exp(0.03 * rng.standard_normal((n_acc, n))), 0.0)
        pnl = perps * (P - entry)
        pool_ok = isolated | (pnl.sum(1) >= -free * (1 - util))
        bucket_ok = (iso_margin + pnl - np.abs(perps) * P * im >= 0) | (perps == 0)
        keep = pool_ok[:, None] & np.where(isolated[:, None], bucket_ok, True)
        entry = np.where(keep, entry, np.where(perps != 0, P, 0.0))
        return cls(holdings=holdings, perps=perps, entry_prices=entry,
                   mode=np.where(isolated, "isolated", "cross"), isolated_margin=iso_margin,
                   cash=cash)


def as_book(account_or_book, market, field: str = "account_or_book") -> tuple:
    """``(book, single)``: a :class:`Book` as it is, an :class:`Account` as a one-row book.

    Checks that the book's columns match ``market``. ``single`` tells the caller to return
    per-account results without the account axis.
    """
    if isinstance(account_or_book, Account):
        book, single = account_or_book.to_book(), True
    elif isinstance(account_or_book, Book):
        book, single = account_or_book, False
    else:
        raise MarginInputError(f"{field} must be an Account or a Book, got "
                               f"{type(account_or_book).__name__}")
    book.check_market(market)
    return book, single
