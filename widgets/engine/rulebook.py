"""Liquidation rulebooks: how much of a failing pool a venue closes, what it charges, who gets it.

A :class:`LiquidationRules` names one venue convention. Every convention trades at the given
(mark) prices; they differ in *how much* is closed and in *who receives the penalty*:

* ``"restore"`` (Mango v4 / perp venues): close the same fraction of every position in the
  failing pool or bucket, just enough to bring its **initial** health back to zero (Mango's
  "liquidation end health": liquidation continues until init health is non-negative; the gap
  between init and maintenance stops the account flapping back into liquidation), plus an
  ``end_buffer`` (default 1 %) of the debt and perp notional left open, so that a venue whose
  init and maintenance weights coincide does not flap either (Aave v4 likewise targets a health
  factor above 1; Hyperliquid closes large positions 20 % at a time). When that is
  impossible — equity at or below zero, or the fraction needed exceeds 1 — everything is closed
  (Hyperliquid's backstop: the whole position goes to the liquidator vault).
* ``"aave"`` (Aave v3): the liquidator repays 50 % of the pool's debt (100 % when the health
  factor is at or below 0.95) and seizes ``debt repaid x (1 + bonus)`` of collateral, pro rata
  over the collateral assets. Perps in the pool (Aave has none) are closed by the same factor.
* ``"full"``: close everything at stake (the engine's original rule).
* ``"fraction"``: close a fixed ``close_factor`` of every position at stake, whatever that does
  to health (a teaching knob; no venue uses a fixed fraction of *everything*).

Penalty basis (``penalty_basis``):

* ``"debt"`` (default): perps pay ``liquidation_penalty x notional closed`` (dYdX, Mango perp
  fee); spot pays ``liquidation_penalty x debt repaid`` at the collateral's rate (Aave's bonus is
  ``debt x bonus``; Mango token liquidations swap liability for asset with a fee). Collateral sold
  beyond the debt pays nothing.
* ``"notional"``: every leg closed pays ``liquidation_penalty x its notional`` (the engine's
  original rule; kept so lessons can show what it does).

The penalty is split: ``protocol_share`` of it goes to the insurance fund (Aave's
``liquidationProtocolFee``, commonly 10 % of the bonus, goes to the treasury; dYdX sends the whole
penalty to the insurance fund), the rest to the liquidator as its bonus.

References
----------
* Aave v3.3 ``aave-dao/aave-v3-origin: src/contracts/protocol/libraries/logic/LiquidationLogic.sol``
  (``DEFAULT_LIQUIDATION_CLOSE_FACTOR = 0.5e4``, ``CLOSE_FACTOR_HF_THRESHOLD = 0.95e18``,
  ``liquidationProtocolFee``); domain.md section 1.
* Mango v4 health (init / maint / liquidation end):
  ``blockworks-foundation/mango-docs: mango-markets/health-overview.md``; domain.md section 4.
* dYdX v4 liquidations (penalty of the closed notional to the insurance fund, max 1.5 %):
  ``dydxprotocol/v4-documentation: docs/pages/concepts/trading/liquidations.mdx``; section 3.
* Hyperliquid liquidations (partial for large positions, backstop vault):
  https://hyperliquid.gitbook.io/hyperliquid-docs/trading/liquidations ; section 5.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validate import MarginInputError

CONVENTIONS = ("restore", "aave", "full", "fraction")
PENALTY_BASES = ("debt", "notional")


@dataclass(frozen=True)
class LiquidationRules:
    """One venue's liquidation convention (see the module docstring).

    Parameters
    ----------
    convention : {"restore", "aave", "full", "fraction"}, default "restore"
    close_factor : float in (0, 1], default 0.5
        ``"aave"``: share of the debt one call may repay while ``HF > full_close_below``.
        ``"fraction"``: share of every position at stake closed (equity <= 0 closes all).
        Ignored by ``"restore"`` and ``"full"``.
    full_close_below : float, default 0.95
        ``"aave"``: at a health factor at or below this, 100 % of the debt may be repaid.
    protocol_share : float in [0, 1], default 1.0
        Share of the penalty paid into the insurance fund; the rest is the liquidator's bonus.
    penalty_basis : {"debt", "notional"}, default "debt"
        Only ``"full"`` and ``"fraction"`` read it; ``"restore"`` and ``"aave"`` always charge
        perps on notional and spot on the debt repaid.
    end_buffer : float in [0, 1), default 0.01
        ``"restore"``: init health left after the liquidation, as a fraction of the debt and
        perp notional left open.

    Examples
    --------
    >>> LiquidationRules.aave().close_factor, LiquidationRules.aave().protocol_share
    (0.5, 0.1)
    >>> LiquidationRules("sometimes")
    Traceback (most recent call last):
    ...
    widgets.engine._validate.MarginInputError: convention must be one of ['restore', 'aave', 'full', 'fraction'], got 'sometimes'
    """

    convention: str = "restore"
    close_factor: float = 0.5
    full_close_below: float = 0.95
    protocol_share: float = 1.0
    penalty_basis: str = "debt"
    end_buffer: float = 0.01

    def __post_init__(self):
        if self.convention not in CONVENTIONS:
            raise MarginInputError(
                f"convention must be one of {list(CONVENTIONS)}, got {self.convention!r}")
        if self.penalty_basis not in PENALTY_BASES:
            raise MarginInputError(
                f"penalty_basis must be one of {list(PENALTY_BASES)}, got {self.penalty_basis!r}")
        for name, lo, hi, lo_open in (("close_factor", 0.0, 1.0, True),
                                      ("protocol_share", 0.0, 1.0, False),
                                      ("full_close_below", 0.0, 1.0, False),
                                      ("end_buffer", 0.0, 0.999, False)):
            v = getattr(self, name)
            try:
                v = float(v)
            except (TypeError, ValueError):
                raise MarginInputError(f"{name} must be a number, got {v!r}") from None
            if not np.isfinite(v) or v > hi or v < lo or (lo_open and v == lo):
                br = "(" if lo_open else "["
                raise MarginInputError(f"{name} must be in {br}{lo}, {hi}], got {v!r}")
            object.__setattr__(self, name, v)

    @classmethod
    def aave(cls) -> "LiquidationRules":
        """Aave v3: 50 % of the debt (100 % at HF <= 0.95), bonus to the liquidator, 10 % of it
        to the protocol."""
        return cls("aave", close_factor=0.5, full_close_below=0.95, protocol_share=0.1)

    @classmethod
    def mango(cls) -> "LiquidationRules":
        """Mango v4: restore init health to zero (no extra buffer: Mango's init weights are
        stricter than its maintenance weights); the fee goes to the liquidator."""
        return cls("restore", protocol_share=0.0, end_buffer=0.0)

    @classmethod
    def full(cls, penalty_basis: str = "debt") -> "LiquidationRules":
        """Close everything at stake; the penalty goes to the insurance fund."""
        return cls("full", close_factor=1.0, protocol_share=1.0, penalty_basis=penalty_basis)

    @classmethod
    def legacy(cls) -> "LiquidationRules":
        """The engine's original rule: close everything, penalty on the notional of every leg
        (collateral sold and debt bought back included), all of it to the insurance fund. Kept
        so lessons and tests can show and reproduce what it did."""
        return cls("full", close_factor=1.0, protocol_share=1.0, penalty_basis="notional")

    @classmethod
    def fraction(cls, close_factor: float, penalty_basis: str = "debt") -> "LiquidationRules":
        """Close a fixed fraction of everything at stake (teaching knob)."""
        return cls("fraction", close_factor=close_factor, protocol_share=1.0,
                   penalty_basis=penalty_basis)

    @classmethod
    def of(cls, market) -> "LiquidationRules":
        """The rules ``market`` runs: its ``liquidation_rules``, else the engine's default
        (:data:`DEFAULT`, restore health)."""
        return getattr(market, "liquidation_rules", None) or DEFAULT

    @classmethod
    def named(cls, convention: str, close_factor: float = 0.5,
              market=None) -> "LiquidationRules":
        """The rules behind a convention's name, as a lab's liquidation control offers them.

        ``market``'s own rules (:meth:`of`) when ``convention`` is its convention (and not
        ``"fraction"``); otherwise ``"restore"`` (:data:`DEFAULT`: init health back to 0 plus
        a 1 % buffer, penalty to the insurance fund), ``"aave"`` (:meth:`aave`), ``"full"``
        (:meth:`full`) or ``"fraction"`` (:meth:`fraction` with ``close_factor``: a fixed
        share of everything at stake, a teaching knob no venue runs). ``close_factor`` is
        checked, in (0, 1], whatever the convention.

        Examples
        --------
        >>> LiquidationRules.named("fraction", 0.25).close_factor
        0.25
        >>> LiquidationRules.named("aave").protocol_share
        0.1
        >>> LiquidationRules.named("sometimes")
        Traceback (most recent call last):
        ...
        widgets.engine._validate.MarginInputError: convention must be one of ['restore', 'aave', 'full', 'fraction'], got 'sometimes'
        """
        from .liquidation import check_close_factor
        close_factor = check_close_factor(close_factor)
        if not isinstance(convention, str) or convention not in CONVENTIONS:
            raise MarginInputError(f"convention must be one of {list(CONVENTIONS)}, got "
                                   f"{convention!r}"[:300])
        if convention == "fraction":
            return cls.fraction(close_factor)
        base = cls.of(market)
        if convention == base.convention:
            return base
        return {"restore": lambda: DEFAULT, "aave": cls.aave, "full": cls.full}[convention]()


# The engine's rule before venue conventions existed: close everything, penalty on every leg,
# all of it to the insurance fund (kept for lessons that show what it did).
LEGACY = LiquidationRules.legacy()
# The default: restore health (init health back to zero plus a 1 % buffer, in full when that is
# impossible), penalty on the perp notional and the debt repaid, paid into the insurance fund
# (dYdX v4: the liquidation penalty goes to the insurance fund).
DEFAULT = LiquidationRules("restore", protocol_share=1.0)


def resolve_rules(market, rules=None, close_factor=None) -> LiquidationRules:
    """The rules a call uses: ``rules`` if given, else ``close_factor`` as a ``"fraction"`` rule
    (1.0 meaning ``"full"``) with the market's penalty basis and shares, else the market's."""
    if rules is not None:
        if isinstance(rules, str):
            rules = {"aave": LiquidationRules.aave, "mango": LiquidationRules.mango,
                     "restore": LiquidationRules, "full": LiquidationRules.full,
                     "legacy": LiquidationRules.legacy}.get(rules)
            if rules is None:
                raise MarginInputError(
                    "rules must be a LiquidationRules or one of ['aave', 'mango', 'restore', "
                    f"'full', 'legacy'], got {rules!r}")
            rules = rules()
        if not isinstance(rules, LiquidationRules):
            raise MarginInputError(f"rules must be a LiquidationRules, got {type(rules).__name__}")
        return rules
    base = getattr(market, "liquidation_rules", None) or DEFAULT
    if close_factor is None:
        return base
    from .liquidation import check_close_factor
    cf = check_close_factor(close_factor)
    return LiquidationRules("full" if cf == 1.0 else "fraction", close_factor=cf,
                            protocol_share=base.protocol_share, penalty_basis=base.penalty_basis)


def penalty_consistency(market, rules: LiquidationRules | None = None):
    """First violation of the venue consistency rules, as ``(asset, message)``, or None.

    * perps: ``liquidation_penalty <= maintenance_margin`` — a penalty above the maintenance
      margin takes more than the cushion a liquidation frees, so closing *lowers* health (dYdX
      caps the penalty at 1.5 % with MMF >= 3 %; Mango's BTC-PERP fee 1.25 % < 5 % maint.)
    * spot: ``asset_weight x (1 + liquidation_penalty) <= 1`` — Aave's rule
      ``LT x (1 + bonus) <= 1``: otherwise seizing ``debt x (1 + bonus)`` of collateral removes
      more weighted collateral than the debt it repays (the toxic liquidation spiral, domain.md
      section 0 point 6). Checked only for assets with a positive asset weight.
    """
    pen = np.asarray(market.liquidation_penalty)
    mm = np.asarray(market.maintenance_margin)
    w = np.asarray(market.asset_weight)
    for i, a in enumerate(market.assets):
        if pen[i] > mm[i] + 1e-15:
            return a, (f"liquidation_penalty[{a}] must be <= maintenance_margin[{a}] "
                       f"({float(mm[i])}) so a perp liquidation cannot lower health, got "
                       f"{float(pen[i])}")
        if w[i] * (1.0 + pen[i]) > 1.0 + 1e-15:
            return a, (f"liquidation_penalty[{a}] must satisfy asset_weight x (1 + penalty) <= 1 "
                       f"(asset_weight {float(w[i])}, so penalty <= {1 / w[i] - 1:.6g}), got "
                       f"{float(pen[i])}")
    return None
