"""The venue's rulebook and market state: one entry per asset.

Units: prices and depth in the quote currency (think USD); weights, margins, penalties and
volatilities as fractions (0.05 means 5 %).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np

from ._validate import (
    MAX_ASSETS,
    MAX_SCENARIOS,
    MarginInputError,
    as_float_array,
    check_correlation,
    check_range,
    freeze,
)

#: Daily volatility below which an asset is treated as a stablecoin (USDC's is about 0.1 %,
#: the majors' 3-5 %): it backs loans at full weight, is not shocked with the volatile assets,
#: and is not a risky leg of a random book. One rule, read through :attr:`Market.is_stablecoin`.
STABLECOIN_VOLATILITY = 0.01

_PER_ASSET = ("prices", "asset_weight", "liability_weight", "maintenance_margin",
              "initial_margin", "liquidation_penalty", "volatility", "depth")


@dataclass(frozen=True, eq=False)
class Market:
    """An immutable venue rulebook plus market state, one entry per asset.

    Parameters
    ----------
    assets : sequence of str
        Asset names, unique (e.g. ``["BTC", "ETH", "USDC"]``).
    prices : array_like, shape (n_assets,)
        Mark prices in the quote currency, > 0.
    asset_weight : array_like, shape (n_assets,), default 0.9
        Collateral is counted at ``asset_weight x value``; the haircut is ``1 - asset_weight``.
        In [0, 1]. (Mango v4 maintenance asset weight; Aave's liquidation threshold.)
    liability_weight : array_like, shape (n_assets,), default 1.1
        Borrowed value is counted at ``liability_weight x value``; >= 1 (Mango v4).
    maintenance_margin : array_like, shape (n_assets,), default 0.05
        Perp maintenance margin as a fraction of notional, ``0 <= mm <= initial_margin``.
    initial_margin : array_like, shape (n_assets,), default 0.10
        Perp initial margin as a fraction of notional, ``mm <= im <= 1`` (1 / max leverage).
    liquidation_penalty : array_like, shape (n_assets,), optional
        Liquidation penalty (fee, bonus) as a fraction, in [0, 1]: of the perp notional closed
        and of the spot debt repaid (see :mod:`.rulebook`). Default: 5 % capped, per asset, to
        the largest consistent value (``<= maintenance_margin`` and
        ``asset_weight x (1 + penalty) <= 1``).
    volatility : array_like, shape (n_assets,), default 0.04
        Daily volatility of log returns, >= 0.
    correlation : array_like, shape (n_assets, n_assets), default identity
        Correlation of daily log returns: symmetric, unit diagonal, positive semi-definite.
    depth : array_like, shape (n_assets,), default 1e7
        Market depth in quote notional, > 0: a net sale of ``depth`` (valued at ``prices``)
        moves the price by 100 % under the linear impact model (see :mod:`.cascade`).
    liquidation_rules : LiquidationRules, optional
        The venue's liquidation convention (:mod:`.rulebook`): how much a liquidation closes,
        the penalty basis, who receives the penalty. Default: the engine default.
    allow_inconsistent_penalty : bool, default False
        When False, a penalty that makes liquidation *lower* health is refused: a perp
        ``liquidation_penalty`` above ``maintenance_margin``, or a spot
        ``asset_weight x (1 + liquidation_penalty) > 1`` (Aave's ``LT x (1 + bonus) <= 1``); see
        :func:`~.rulebook.penalty_consistency`.
    init_asset_weight, init_liability_weight : array_like, shape (n_assets,), optional
        Spot weights for *initial* (init) health, which decides whether a new borrow, position
        or withdrawal is allowed (Mango v4 init weights; Aave's LTV). Default: the maintenance
        weights (``asset_weight``, ``liability_weight``). Must be at least as strict:
        ``init_asset_weight <= asset_weight`` and ``init_liability_weight >= liability_weight``.
    brackets : dict, optional
        Per-asset perp margin brackets (tiers) by position notional, ``{asset: table}``; assets
        not named keep their single ``maintenance_margin`` / ``initial_margin`` rate. A table is
        a mapping with

        * ``floor``: notional floors in the quote currency, first 0, strictly increasing;
        * ``maintenance``: maintenance rate of each bracket, in [0, 1], non-decreasing;
        * ``initial``: initial rate of each bracket, ``maintenance <= initial <= 1``;
        * ``amount`` (optional): maintenance amount of each bracket (Binance ``cum``,
          Hyperliquid "maintenance deduction"). Derived when omitted, checked when given:
          ``amount[0] = 0``, ``amount[k] = amount[k-1] + floor[k] x (mm[k] - mm[k-1])``,
          which makes the requirement continuous at every floor.

        A position of notional ``N`` in bracket ``k`` (``floor[k] <= N < floor[k+1]``) needs
        ``N x maintenance[k] - amount[k]`` of maintenance margin and ``N x initial[k]`` of
        initial margin (``N / leverage`` at the bracket's max leverage, so the initial
        requirement steps up at a floor). For a bracketed asset the ``maintenance_margin`` and
        ``initial_margin`` fields hold the first bracket's rates.

    A scalar for a per-asset field applies to every asset.

    Raises
    ------
    MarginInputError
        A ``ValueError`` naming the field and value, e.g. ``asset_weight[ETH] must be in
        [0.0, 1.0], got 1.2``.

    Examples
    --------
    >>> m = Market(["ETH", "USDC"], [2000.0, 1.0], asset_weight=[0.8, 1.0])
    >>> float(m.prices[m.index("ETH")])
    2000.0
    >>> Market(["ETH"], [-5.0])
    Traceback (most recent call last):
    ...
    widgets.engine._validate.MarginInputError: prices[ETH] must be in (0.0, inf), got -5.0

    Binance's BTCUSDT brackets (first three; the amounts 0, 50, 1,300 are derived):

    >>> b = {"BTC": {"floor": [0, 50_000, 250_000], "maintenance": [0.004, 0.005, 0.01],
    ...              "initial": [0.008, 0.01, 0.02]}}
    >>> m = Market(["BTC"], [50_000.0], brackets=b)
    >>> m.bracket_table("BTC")["amount"]
    (0.0, 50.0, 1300.0)
    >>> m.maintenance_requirement([264_000.0]).tolist()   # 264,000 x 1 % - 1,300
    [1340.0]
    """

    assets: tuple
    prices: np.ndarray
    asset_weight: np.ndarray = 0.9
    liability_weight: np.ndarray = 1.1
    maintenance_margin: np.ndarray = 0.05
    initial_margin: np.ndarray = 0.10
    liquidation_penalty: np.ndarray = None
    volatility: np.ndarray = 0.04
    correlation: np.ndarray = None
    depth: np.ndarray = 1e7
    init_asset_weight: np.ndarray = None
    init_liability_weight: np.ndarray = None
    brackets: dict = None
    liquidation_rules: object = None
    allow_inconsistent_penalty: bool = False
    _index: dict = field(init=False, repr=False)
    # Bracket tables as (n_assets, K) arrays, padded with floor = inf; a single-rate asset is one
    # bracket [0, inf) with amount 0. ``_tiered`` marks assets with more than one bracket.
    _br_floor: np.ndarray = field(init=False, repr=False)
    _br_mm: np.ndarray = field(init=False, repr=False)
    _br_im: np.ndarray = field(init=False, repr=False)
    _br_amount: np.ndarray = field(init=False, repr=False)
    _tiered: np.ndarray = field(init=False, repr=False)
    _init_given: tuple = field(init=False, repr=False)   # which init weights were given

    def __post_init__(self):
        assets = tuple(self.assets) if not isinstance(self.assets, str) else None
        if not assets or not all(isinstance(a, str) and a for a in assets):
            raise MarginInputError(
                f"assets must be a non-empty list of names, got {self.assets!r}")
        if len(assets) > MAX_ASSETS:
            raise MarginInputError(f"assets must have at most {MAX_ASSETS} names, got {len(assets)}")
        if len(set(assets)) != len(assets):
            dup = next(a for a in assets if assets.count(a) > 1)
            raise MarginInputError(f"assets must be unique, got {dup!r} twice")
        n = len(assets)
        default_pen = self.liquidation_penalty is None
        vals = {f: as_float_array(f, getattr(self, f), (n,), assets) for f in _PER_ASSET
                if not (default_pen and f == "liquidation_penalty")}
        tables = _check_brackets(self.brackets, assets)
        for i, t in tables.items():     # a bracketed asset's single rates are its first bracket's
            vals["maintenance_margin"][i] = t["maintenance"][0]
            vals["initial_margin"][i] = t["initial"][0]
        if default_pen:                 # 5 %, capped to the largest consistent penalty
            w = vals["asset_weight"]
            with np.errstate(divide="ignore"):
                spot_cap = np.where(w > 0, 1.0 / np.where(w > 0, w, 1.0) - 1.0, np.inf)
            vals["liquidation_penalty"] = np.minimum(
                np.minimum(0.05, np.nan_to_num(vals["maintenance_margin"], nan=0.0)), spot_cap)
        check_range("prices", vals["prices"], 0.0, None, low_open=True, names=assets)
        check_range("asset_weight", vals["asset_weight"], 0.0, 1.0, names=assets)
        check_range("liability_weight", vals["liability_weight"], 1.0, None, names=assets)
        check_range("maintenance_margin", vals["maintenance_margin"], 0.0, 1.0, names=assets)
        check_range("initial_margin", vals["initial_margin"], 0.0, 1.0, names=assets)
        below = vals["initial_margin"] < vals["maintenance_margin"]
        if below.any():
            i = int(np.flatnonzero(below)[0])
            raise MarginInputError(
                f"initial_margin[{assets[i]}] must be >= maintenance_margin "
                f"({float(vals['maintenance_margin'][i])}), got {float(vals['initial_margin'][i])}")
        init_given = (self.init_asset_weight is not None, self.init_liability_weight is not None)
        for init_f, maint_f in (("init_asset_weight", "asset_weight"),
                                ("init_liability_weight", "liability_weight")):
            given = getattr(self, init_f)
            vals[init_f] = (vals[maint_f].copy() if given is None
                            else as_float_array(init_f, given, (n,), assets))
        check_range("init_asset_weight", vals["init_asset_weight"], 0.0, 1.0, names=assets)
        check_range("init_liability_weight", vals["init_liability_weight"], 1.0, None,
                    names=assets)
        for init_f, maint_f, worse in (("init_asset_weight", "asset_weight", np.greater),
                                       ("init_liability_weight", "liability_weight", np.less)):
            bad = worse(vals[init_f], vals[maint_f])
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                rel = "<=" if worse is np.greater else ">="
                raise MarginInputError(
                    f"{init_f}[{assets[i]}] must be {rel} {maint_f} "
                    f"({float(vals[maint_f][i])}), got {float(vals[init_f][i])}")
        check_range("liquidation_penalty", vals["liquidation_penalty"], 0.0, 1.0, names=assets)
        check_range("volatility", vals["volatility"], 0.0, None, names=assets)
        check_range("depth", vals["depth"], 0.0, None, low_open=True, names=assets)
        corr = np.eye(n) if self.correlation is None else as_float_array(
            "correlation", self.correlation)
        if corr.shape != (n, n):
            raise MarginInputError(f"correlation must have shape {(n, n)}, got shape {corr.shape}")
        check_correlation("correlation", corr, assets)
        from .rulebook import LiquidationRules, penalty_consistency
        if self.liquidation_rules is not None and not isinstance(self.liquidation_rules,
                                                                 LiquidationRules):
            raise MarginInputError(f"liquidation_rules must be a LiquidationRules or None, got "
                                   f"{type(self.liquidation_rules).__name__}")
        if not self.allow_inconsistent_penalty:
            bad = penalty_consistency(_PenaltyView(assets, vals))
            if bad is not None:
                raise MarginInputError(bad[1] + " (pass allow_inconsistent_penalty=True to "
                                       "build such a venue on purpose)")
        # Everything validated: only now write the fields (frozen dataclass, so via object).
        object.__setattr__(self, "assets", assets)
        for f, arr in vals.items():
            object.__setattr__(self, f, freeze(arr))
        object.__setattr__(self, "correlation", freeze(corr.copy()))
        object.__setattr__(self, "_index", {a: i for i, a in enumerate(assets)})
        K = max([len(t["floor"]) for t in tables.values()] + [1])
        floor = np.full((n, K), np.inf)
        floor[:, 0] = 0.0
        mm = np.repeat(vals["maintenance_margin"][:, None], K, axis=1)
        im = np.repeat(vals["initial_margin"][:, None], K, axis=1)
        amount = np.zeros((n, K))
        for i, t in tables.items():
            k = len(t["floor"])
            floor[i, :k], mm[i, :k], im[i, :k], amount[i, :k] = (
                t["floor"], t["maintenance"], t["initial"], t["amount"])
            mm[i, k:], im[i, k:], amount[i, k:] = mm[i, k - 1], im[i, k - 1], amount[i, k - 1]
        tiered = np.isfinite(floor[:, 1]) if K > 1 else np.zeros(n, dtype=bool)
        object.__setattr__(self, "brackets", {assets[i]: {k: tuple(float(x) for x in v)
                                                          for k, v in t.items()}
                                              for i, t in sorted(tables.items())} or None)
        object.__setattr__(self, "_init_given", init_given)
        for name, arr in (("_br_floor", floor), ("_br_mm", mm), ("_br_im", im),
                          ("_br_amount", amount), ("_tiered", tiered)):
            object.__setattr__(self, name, freeze(arr))

    @property
    def n_assets(self) -> int:
        return len(self.assets)

    def index(self, asset: str) -> int:
        """Position of ``asset`` in :attr:`assets`; raises ``MarginInputError`` if unknown."""
        try:
            return self._index[asset]
        except (KeyError, TypeError):
            raise MarginInputError(
                f"asset must be one of {list(self.assets)}, got {asset!r}") from None

    @property
    def is_stablecoin(self) -> np.ndarray:
        """Boolean per asset: daily volatility below :data:`STABLECOIN_VOLATILITY` (1 %)."""
        return self.volatility < STABLECOIN_VOLATILITY

    @property
    def volatile_assets(self) -> tuple:
        """The assets that are not stablecoins (see :attr:`is_stablecoin`), in market order."""
        return tuple(a for a, s in zip(self.assets, self.is_stablecoin) if not s)

    @property
    def has_brackets(self) -> bool:
        """True when some asset has more than one margin bracket."""
        return bool(self._tiered.any())

    def bracket_table(self, asset: str) -> dict:
        """The bracket table of ``asset``: ``floor``, ``maintenance``, ``initial``, ``amount``.

        A single-rate asset is one bracket from 0 with amount 0.

        Examples
        --------
        >>> Market(["ETH"], [4_000.0], maintenance_margin=0.02, initial_margin=0.04
        ...        ).bracket_table("ETH")
        {'floor': (0.0,), 'maintenance': (0.02,), 'initial': (0.04,), 'amount': (0.0,)}
        """
        i = self.index(asset)
        k = int(np.isfinite(self._br_floor[i]).sum())
        return {"floor": tuple(self._br_floor[i, :k].tolist()),
                "maintenance": tuple(self._br_mm[i, :k].tolist()),
                "initial": tuple(self._br_im[i, :k].tolist()),
                "amount": tuple(self._br_amount[i, :k].tolist())}

    def maintenance_requirement(self, notional) -> np.ndarray:
        """Perp maintenance margin in the quote currency for absolute notionals.

        Parameters
        ----------
        notional : array_like, shape (..., n_assets)
            Absolute position notional ``|q| x P`` per asset, >= 0 (the last axis is the asset).

        Returns
        -------
        numpy.ndarray, same shape
            ``N x maintenance[k] - amount[k]`` with ``k`` the bracket of ``N`` (one bracket,
            amount 0, for a single-rate asset: ``N x maintenance_margin``).

        References
        ----------
        Binance "How to calculate liquidation price of USDⓈ-M contracts" (maintenance amount
        ``cum``); Hyperliquid docs "Margin tiers" (maintenance deduction).

        Examples
        --------
        >>> m = Market(["BTC", "ETH"], [100_000.0, 4_000.0], maintenance_margin=[0.004, 0.02])
        >>> m.maintenance_requirement([50_000.0, 10_000.0]).tolist()
        [200.0, 200.0]
        """
        N = np.asarray(notional, dtype=float)
        if not self.has_brackets:
            return N * self.maintenance_margin
        return self.requirement_cells(N, np.arange(self.n_assets), "maintenance")

    def initial_requirement(self, notional) -> np.ndarray:
        """Perp initial margin in the quote currency for absolute notionals, shape (..., n_assets).

        ``N x initial[k]`` with ``k`` the bracket of ``N`` (``N / max leverage`` of the bracket;
        no amount, so it steps up at a bracket floor). Same conventions as
        :meth:`maintenance_requirement`.

        Examples
        --------
        >>> m = Market(["BTC"], [100_000.0], maintenance_margin=0.004, initial_margin=0.01)
        >>> m.initial_requirement([50_000.0]).tolist()
        [500.0]
        """
        N = np.asarray(notional, dtype=float)
        if not self.has_brackets:
            return N * self.initial_margin
        return self.requirement_cells(N, np.arange(self.n_assets), "initial")

    def bracket_index(self, notional, cols) -> np.ndarray:
        """Bracket of each notional: ``k`` with ``floor[col, k] <= N < floor[col, k+1]``.

        ``notional`` has shape (..., n_cells) and ``cols`` (n_cells,) gives each cell's asset.
        One pass per bracket (not per account).
        """
        N = np.asarray(notional, dtype=float)
        k = np.zeros(N.shape, dtype=np.intp)
        for j in range(1, self._br_floor.shape[1]):
            k += N >= self._br_floor[cols, j]
        return k

    def requirement_cells(self, notional, cols, kind: str = "maintenance") -> np.ndarray:
        """Requirement of cells ``notional`` (..., n_cells) whose assets are ``cols`` (n_cells,).

        ``kind`` is ``"maintenance"`` (``N x mm[k] - amount[k]``) or ``"initial"``
        (``N x im[k]``). The engine's hot paths (isolated buckets, the cascade) call this on
        the open cells only.
        """
        N = np.asarray(notional, dtype=float)
        cols = np.asarray(cols, dtype=np.intp)
        rates = self._br_mm if kind == "maintenance" else self._br_im
        if not self._tiered[cols].any():
            return N * rates[cols, 0]
        k = self.bracket_index(N, cols)
        out = N * rates[cols, k]
        if kind == "maintenance":
            out -= self._br_amount[cols, k]
        return out

    def replace(self, **changes) -> "Market":
        """A new, re-validated market with some fields changed (``self`` is untouched).

        Init weights that were defaulted follow the maintenance weights of the new market.
        """
        for f, given in zip(("init_asset_weight", "init_liability_weight"), self._init_given):
            if not given and f not in changes:
                changes[f] = None
        return dataclasses.replace(self, **changes)

    def with_prices(self, prices) -> "Market":
        """The same rulebook at new prices."""
        return self.replace(prices=prices)

    def shocked(self, shock) -> "Market":
        """The same rulebook with every price moved by ``shock`` (fractions, > -1)."""
        return self.with_prices(self.prices * (1.0 + shock_vector(self, shock)))

    def per_asset(self, field_name: str, values) -> np.ndarray:
        """Validate a per-asset vector given as an array or a ``{asset: value}`` mapping."""
        if isinstance(values, dict):
            out = [0.0] * self.n_assets
            for name, v in values.items():
                if not isinstance(name, str) or name not in self._index:
                    raise MarginInputError(f"{field_name} keys must be one of "
                                           f"{list(self.assets)}, got {name!r}")
                out[self._index[name]] = v
            values = out                      # checked as numbers just below
        return as_float_array(field_name, values, (self.n_assets,), self.assets)

    @classmethod
    def example(cls) -> "Market":
        """BTC, ETH, SOL and USDC with parameters taken from public venue documents.

        Prices are round illustrative levels (not a live quote). Sources:

        * asset and liability weights: Mango Markets v4 maintenance weights for BTC/ETH/SOL
          (0.9 / 1.1, i.e. 10x maintenance leverage) and USDC (1 / 1) —
          ``blockworks-foundation/mango-docs: mango-markets/token-specs.md``; init weights
          0.8 / 1.2 for BTC/ETH/SOL (5x init leverage, Mango's spot table: init 0.8, maint 0.9;
          ``init_liab_w = 1 + 1/init_lev``, ``mango-markets/health-overview.md``) and 1 / 1 for
          USDC.
        * perp margins: Hyperliquid's rule "maintenance margin is half the initial margin at max
          leverage", with max leverage 40x BTC, 25x ETH, 20x SOL — initial 2.5 % / 4 % / 5 %,
          maintenance 1.25 % / 2 % / 2.5 %
          (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations).
        * liquidation penalty 1.25 % for BTC, ETH and SOL (Mango v4's perp liquidation fee for
          BTC-PERP; inside dYdX's 1.5 % cap; at most each asset's maintenance margin, so a
          liquidation never lowers health), 0 for the stablecoin. One field serves perps and
          spot: on spot it is the bonus on the debt repaid (Aave charges 5-10 %; a spot weight of
          0.9 allows up to 11.1 %).
        * daily volatility 3 % / 4 % / 5 % for BTC / ETH / SOL (the 3-5 % range used for
          square-root-law teaching parameters), 0.1 % for USDC; correlations 0.7-0.8 between the
          majors, near 0 with USDC (illustrative, typical of calm markets).
        * depth: illustrative venue order-book depth in USD.

        Examples
        --------
        >>> m = Market.example()
        >>> m.assets
        ('BTC', 'ETH', 'SOL', 'USDC')
        >>> float(m.maintenance_margin[m.index("BTC")])
        0.0125
        """
        corr = np.array([
            [1.00, 0.80, 0.70, 0.00],
            [0.80, 1.00, 0.75, 0.00],
            [0.70, 0.75, 1.00, 0.00],
            [0.00, 0.00, 0.00, 1.00],
        ])
        return cls(
            assets=("BTC", "ETH", "SOL", "USDC"),
            prices=[100_000.0, 4_000.0, 200.0, 1.0],
            asset_weight=[0.9, 0.9, 0.9, 1.0],
            liability_weight=[1.1, 1.1, 1.1, 1.0],
            init_asset_weight=[0.8, 0.8, 0.8, 1.0],
            init_liability_weight=[1.2, 1.2, 1.2, 1.0],
            maintenance_margin=[0.0125, 0.02, 0.025, 0.0],
            initial_margin=[0.025, 0.04, 0.05, 0.0],
            liquidation_penalty=[0.0125, 0.0125, 0.0125, 0.0],
            volatility=[0.03, 0.04, 0.05, 0.001],
            correlation=corr,
            depth=[2e8, 1e8, 3e7, 1e9],
        )


_BRACKET_KEYS = ("floor", "maintenance", "initial", "amount")


def _check_brackets(brackets, assets) -> dict:
    """Validate ``brackets`` into ``{asset index: {floor, maintenance, initial, amount}}``.

    Errors name the field, the asset, the bracket and the value, e.g.
    ``brackets[BTC].floor[2] must be > floor[1] (250000.0), got 100000.0``.
    """
    if brackets is None:
        return {}
    if not isinstance(brackets, dict):
        raise MarginInputError(
            f"brackets must be a mapping {{asset: table}}, got {type(brackets).__name__}")
    index = {a: i for i, a in enumerate(assets)}
    out = {}
    for name, table in brackets.items():
        if name not in index:
            raise MarginInputError(f"brackets keys must be one of {list(assets)}, got {name!r}")
        where = f"brackets[{name}]"
        if not isinstance(table, dict):
            raise MarginInputError(f"{where} must be a mapping with keys floor, maintenance, "
                                   f"initial (and optionally amount), got {table!r}")
        extra = set(table) - set(_BRACKET_KEYS)
        missing = {"floor", "maintenance", "initial"} - set(table)
        if extra or missing:
            raise MarginInputError(
                f"{where} must have keys floor, maintenance, initial (optional amount), got "
                f"{sorted(table)}")
        cols = {}
        for key in _BRACKET_KEYS:
            if key not in table:
                continue
            arr = as_float_array(f"{where}.{key}", table[key])
            if arr.ndim != 1 or arr.size == 0:
                raise MarginInputError(
                    f"{where}.{key} must be a non-empty list, one number per bracket, got "
                    f"{table[key]!r}")
            cols[key] = arr
        k = cols["floor"].size
        for key, arr in cols.items():
            if arr.size != k:
                raise MarginInputError(f"{where}.{key} must have {k} entries (one per floor), "
                                       f"got {arr.size}")
        fl, mm, im = cols["floor"], cols["maintenance"], cols["initial"]
        if fl[0] != 0.0:
            raise MarginInputError(f"{where}.floor[0] must be 0 (the first bracket starts at "
                                   f"no position), got {float(fl[0])!r}")
        for b in range(1, k):
            if not fl[b] > fl[b - 1]:
                raise MarginInputError(f"{where}.floor[{b}] must be > floor[{b - 1}] "
                                       f"({float(fl[b - 1])!r}), got {float(fl[b])!r}")
        for b in range(k):
            if not 0.0 <= mm[b] <= 1.0:
                raise MarginInputError(
                    f"{where}.maintenance[{b}] must be in [0.0, 1.0], got {float(mm[b])!r}")
            if not mm[b] <= im[b] <= 1.0:
                raise MarginInputError(
                    f"{where}.initial[{b}] must be in [maintenance[{b}] ({float(mm[b])!r}), 1.0]"
                    f", got {float(im[b])!r}")
            if b and mm[b] < mm[b - 1]:
                raise MarginInputError(
                    f"{where}.maintenance[{b}] must be >= maintenance[{b - 1}] "
                    f"({float(mm[b - 1])!r}), got {float(mm[b])!r}")
        derived = np.zeros(k)
        for b in range(1, k):
            # floor x mm[b] - floor x mm[b-1] (not floor x (mm[b] - mm[b-1])): the difference of
            # two decimal rates is rarely exact in binary, the products usually are, so the
            # published amounts come out exactly (Binance's 16,300, not 16,300.000000000002).
            derived[b] = derived[b - 1] + (fl[b] * mm[b] - fl[b] * mm[b - 1])
        amount = cols.get("amount")
        if amount is not None:
            for b in range(k):
                if abs(amount[b] - derived[b]) > 1e-9 * max(1.0, abs(derived[b])) + 1e-6:
                    raise MarginInputError(
                        f"{where}.amount[{b}] must be {float(derived[b])!r} to keep the "
                        f"requirement continuous at floor[{b}] (amount[{b - 1}] + floor[{b}] x "
                        f"(maintenance[{b}] - maintenance[{b - 1}])), got {float(amount[b])!r}"
                        if b else
                        f"{where}.amount[0] must be 0.0, got {float(amount[0])!r}")
        out[index[name]] = {"floor": fl, "maintenance": mm, "initial": im,
                            "amount": derived if amount is None else amount}
    return out


class _PenaltyView:
    """The fields :func:`~.rulebook.penalty_consistency` reads, before the market is built."""

    def __init__(self, assets, vals):
        self.assets = assets
        self.liquidation_penalty = vals["liquidation_penalty"]
        self.maintenance_margin = vals["maintenance_margin"]
        self.asset_weight = vals["asset_weight"]


def shock_vector(market: Market, shock) -> np.ndarray:
    """Validate a price shock (scalar, per-asset array or ``{asset: move}``) as fractions > -1."""
    vec = market.per_asset("shock", shock)
    check_range("shock", vec, -1.0, None, low_open=True, names=market.assets)
    return vec


def resolve_prices(market: Market, prices=None) -> np.ndarray:
    """Prices to evaluate at: the market's own, or validated ``prices``.

    ``prices`` may be shape ``(n_assets,)`` or ``(n_scenarios, n_assets)`` (one row per scenario).
    """
    if prices is None:
        return market.prices
    arr = as_float_array("prices", prices, names=market.assets)
    if arr.ndim not in (1, 2) or arr.shape[-1] != market.n_assets:
        raise MarginInputError(
            f"prices must have shape ({market.n_assets},) or (n_scenarios, {market.n_assets}), "
            f"got shape {arr.shape}")
    if arr.ndim == 2 and arr.shape[0] > MAX_SCENARIOS:
        raise MarginInputError(
            f"prices must have at most {MAX_SCENARIOS} scenario rows, got {arr.shape[0]}")
    check_range("prices", arr, 0.0, None, low_open=True,
                names=market.assets if arr.ndim == 1 else None)
    return arr
