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
    liquidation_penalty : array_like, shape (n_assets,), default 0.05
        Fraction of liquidated notional paid into the insurance fund, in [0, 1].
    volatility : array_like, shape (n_assets,), default 0.04
        Daily volatility of log returns, >= 0.
    correlation : array_like, shape (n_assets, n_assets), default identity
        Correlation of daily log returns: symmetric, unit diagonal, positive semi-definite.
    depth : array_like, shape (n_assets,), default 1e7
        Market depth in quote notional, > 0: a net sale of ``depth`` (valued at ``prices``)
        moves the price by 100 % under the linear impact model (see :mod:`.cascade`).

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
    """

    assets: tuple
    prices: np.ndarray
    asset_weight: np.ndarray = 0.9
    liability_weight: np.ndarray = 1.1
    maintenance_margin: np.ndarray = 0.05
    initial_margin: np.ndarray = 0.10
    liquidation_penalty: np.ndarray = 0.05
    volatility: np.ndarray = 0.04
    correlation: np.ndarray = None
    depth: np.ndarray = 1e7
    _index: dict = field(init=False, repr=False)

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
        vals = {f: as_float_array(f, getattr(self, f), (n,), assets) for f in _PER_ASSET}
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
        check_range("liquidation_penalty", vals["liquidation_penalty"], 0.0, 1.0, names=assets)
        check_range("volatility", vals["volatility"], 0.0, None, names=assets)
        check_range("depth", vals["depth"], 0.0, None, low_open=True, names=assets)
        corr = np.eye(n) if self.correlation is None else as_float_array(
            "correlation", self.correlation)
        if corr.shape != (n, n):
            raise MarginInputError(f"correlation must have shape {(n, n)}, got shape {corr.shape}")
        check_correlation("correlation", corr, assets)
        # Everything validated: only now write the fields (frozen dataclass, so via object).
        object.__setattr__(self, "assets", assets)
        for f, arr in vals.items():
            object.__setattr__(self, f, freeze(arr))
        object.__setattr__(self, "correlation", freeze(corr.copy()))
        object.__setattr__(self, "_index", {a: i for i, a in enumerate(assets)})

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

    def maintenance_requirement(self, notional) -> np.ndarray:
        """Perp maintenance margin in the quote currency for absolute notionals.

        Parameters
        ----------
        notional : array_like, shape (..., n_assets)
            Absolute position notional ``|q| x P`` per asset, >= 0 (the last axis is the asset).

        Returns
        -------
        numpy.ndarray, same shape
            ``notional x maintenance_margin`` (one rate per asset).

        Examples
        --------
        >>> m = Market(["BTC", "ETH"], [100_000.0, 4_000.0], maintenance_margin=[0.004, 0.02])
        >>> m.maintenance_requirement([50_000.0, 10_000.0]).tolist()
        [200.0, 200.0]
        """
        return np.asarray(notional, dtype=float) * self.maintenance_margin

    def initial_requirement(self, notional) -> np.ndarray:
        """Perp initial margin in the quote currency for absolute notionals, shape (..., n_assets).

        Same conventions as :meth:`maintenance_requirement`, with ``initial_margin``.

        Examples
        --------
        >>> m = Market(["BTC"], [100_000.0], maintenance_margin=0.004, initial_margin=0.01)
        >>> m.initial_requirement([50_000.0]).tolist()
        [500.0]
        """
        return np.asarray(notional, dtype=float) * self.initial_margin

    def replace(self, **changes) -> "Market":
        """A new, re-validated market with some fields changed (``self`` is untouched)."""
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
          ``blockworks-foundation/mango-docs: mango-markets/token-specs.md``.
        * perp margins: Hyperliquid's rule "maintenance margin is half the initial margin at max
          leverage", with max leverage 40x BTC, 25x ETH, 20x SOL — initial 2.5 % / 4 % / 5 %,
          maintenance 1.25 % / 2 % / 2.5 %
          (https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations).
        * liquidation penalty: Mango's 5 % liquidation fee for BTC, applied to the other volatile
          assets too; 0 for the stablecoin.
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
            maintenance_margin=[0.0125, 0.02, 0.025, 0.0],
            initial_margin=[0.025, 0.04, 0.05, 0.0],
            liquidation_penalty=[0.05, 0.05, 0.05, 0.0],
            volatility=[0.03, 0.04, 0.05, 0.001],
            correlation=corr,
            depth=[2e8, 1e8, 3e7, 1e9],
        )


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
