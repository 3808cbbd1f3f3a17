"""Who pays for bad debt: the insurance fund first, then the traders on the other side.

When a liquidated account's collateral does not cover its debt, the shortfall (bad debt) is paid
by the venue's insurance fund; whatever the fund cannot pay is *socialized*: profitable
counterparties are auto-deleveraged (their positions closed at the bankrupt account's price,
giving up part of their profit). This is the waterfall of dYdX v4 (insurance fund, then
deleveraging of offsetting positions), Hyperliquid (liquidator vault / HLP, then ADL ranked by
unrealized PnL and leverage) and BitMEX (liquidation engine, insurance fund, then ADL ranked by
``PnL% x effective leverage``).

In :func:`~.cascade.cascade` the fund never changes which accounts fail, what they sell or how
much bad debt there is: it is only read by the settlement step (penalties of the round flow in,
then the round's bad debt is paid out). So one cascade's ``penalty_by_round`` and
``bad_debt_by_round`` determine who pays for *any* starting fund. :func:`fund_coverage` replays
that settlement (the same :func:`._settlement.settle_fund` step the cascade uses) for many fund
sizes at once.

References
----------
* dYdX v4 contract-loss mechanisms (insurance fund, deleveraging):
  ``dydxprotocol/v4-documentation: docs/pages/concepts/trading/liquidations.mdx``.
* Hyperliquid auto-deleveraging:
  https://hyperliquid.gitbook.io/hyperliquid-docs/trading/auto-deleveraging
* BitMEX, "What is Auto-Deleveraging":
  https://support.bitmex.com/hc/en-gb/articles/18589621443357-What-is-Auto-Deleveraging
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._validate import MarginInputError, as_float_array, check_range
from .cascade import CascadeResult
from ._settlement import settle_fund


class FundCoverage(NamedTuple):
    """Outcome of :func:`fund_coverage`, one entry per starting fund size (shape ``(k,)``).

    ``covered + socialized == bad_debt`` for every fund size.
    """

    insurance_fund: np.ndarray   # starting fund balances
    covered: np.ndarray          # bad debt paid by the fund (starting balance plus penalties)
    socialized: np.ndarray       # bad debt left to profitable traders (auto-deleveraging)
    fund_after: np.ndarray       # fund balance after the last round
    bad_debt: float              # total bad debt of the cascade (the same for every fund)
    penalties: float             # penalties paid into the fund over the cascade (protocol share)

    @property
    def coverage(self) -> np.ndarray:
        """Share of the bad debt the fund (starting balance plus penalties) covered, per fund
        size; 1 when there is no bad debt."""
        if self.bad_debt <= 0:
            return np.ones_like(self.covered)
        return self.covered / self.bad_debt

    @property
    def socialized_share(self) -> np.ndarray:
        """Share of the bad debt socialized, per fund size: ``1 - coverage`` (0 with no bad
        debt)."""
        if self.bad_debt <= 0:
            return np.zeros_like(self.socialized)
        return self.socialized / self.bad_debt

    @property
    def late_penalties(self) -> np.ndarray:
        """Penalties that reached the fund after its last shortfall, too late to pay any bad
        debt, per fund size; 0 where nothing was socialized.

        The fund pays each round's bad debt as it comes (see :func:`fund_coverage`), so where
        something was socialized the fund ran dry in some round, and what it holds at the end
        (``fund_after = insurance_fund + penalties - covered``) are penalties of later rounds.
        """
        return np.where(self.socialized > 0, self.fund_after, 0.0)


def fund_coverage(result: CascadeResult, insurance_fund) -> FundCoverage:
    """Split a cascade's bad debt into what the fund covers and what is socialized.

    Parameters
    ----------
    result : CascadeResult
        A cascade; only its ``penalty_by_round`` and ``bad_debt_by_round`` are used (the fund
        it was run with is ignored).
    insurance_fund : float or array_like, shape (k,)
        Starting fund balances to evaluate, quote currency, each >= 0.

    Returns
    -------
    FundCoverage
        Arrays of shape ``(k,)`` (``(1,)`` for a scalar).

    Notes
    -----
    Round by round, as in the cascade: ``F += penalty_r``; ``paid_r = min(F, bad_r)``;
    ``F -= paid_r``; ``socialized_r = bad_r - paid_r``. Penalties collected in a round can pay
    that round's and later rounds' bad debt, never an earlier round's. The result equals
    ``cascade(..., insurance_fund=F0)``'s ``socialized_loss`` and final fund for every ``F0``
    (tested).

    Examples
    --------
    Three accounts hold 1 X each against quote debts of 105, 76.5 and 70; liquidation closes
    everything and charges 5 % of the notional sold (``rules="legacy"``). A 5 % shock (X at 95)
    fails the first two: round 1 collects a 4.75 penalty (5 % of 95, from the second) and writes
    off 10 of bad debt (105 - 95). Their sales push X to 85.5, failing the third account in
    round 2 (penalty 4.275), too late to help round 1. With no fund, 4.75 is covered and 5.25
    socialized; a fund of 3 covers 7.75; a fund of 10 covers everything:

    >>> from widgets.engine import Market, Book, Account, cascade
    >>> m = Market(["X"], [100.0], asset_weight=0.8, liquidation_penalty=0.05, depth=2_000.0)
    >>> b = Book.from_accounts([Account([1.0], cash=-d) for d in (105.0, 76.5, 70.0)])
    >>> res = cascade(b, m, shock=-0.05, rules="legacy")
    >>> cov = fund_coverage(res, [0.0, 3.0, 10.0])
    >>> cov.bad_debt, cov.covered.tolist(), cov.socialized.tolist()
    (10.0, [4.75, 7.75, 10.0], [5.25, 2.25, 0.0])

    Round 2's penalty (4.275) came in after the fund had run dry: too late for round 1's loss.

    >>> cov.late_penalties.round(3).tolist(), cov.coverage.round(3).tolist()
    ([4.275, 4.275, 0.0], [0.475, 0.775, 1.0])
    >>> float(cascade(b, m, shock=-0.05, insurance_fund=3.0, rules="legacy").socialized_loss)
    2.25
    """
    if not isinstance(result, CascadeResult):
        raise MarginInputError(f"result must be a CascadeResult, got {type(result).__name__}")
    funds = as_float_array("insurance_fund", insurance_fund)
    if funds.ndim > 1:
        raise MarginInputError(
            f"insurance_fund must be a number or a 1-D array, got shape {funds.shape}")
    check_range("insurance_fund", funds, 0.0, None)
    funds = np.atleast_1d(funds)
    fees = result.protocol_fee_by_round
    pen = [float(p) for p in (result.penalty_by_round if fees is None else fees)]
    bad = [float(b) for b in result.bad_debt_by_round]
    social = np.zeros(funds.size)
    after = np.zeros(funds.size)
    for i, fund in enumerate(funds.tolist()):
        for p, d in zip(pen, bad):
            fund, _, s = settle_fund(fund, p, d)
            social[i] += s
        after[i] = fund
    total = float(sum(bad))
    return FundCoverage(insurance_fund=funds.copy(), covered=total - social, socialized=social,
                        fund_after=after, bad_debt=total, penalties=float(sum(pen)))
