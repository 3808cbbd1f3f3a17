"""Measures the pictures used to compute themselves, now engine properties (solutions by hand)."""
import numpy as np

from widgets.engine import (Account, Book, Market, compare_pooling, dominated_by,
                            fund_coverage, liquidation_path)
from widgets.engine.insurance import FundCoverage


def test_dominated_by_names_the_cheapest_frontier_policy_that_beats_each_point():
    # efficiency / bad debt: A (1.0, 180) and B (0.5, 60) are on the front; C (0.5, 90) is
    # beaten by B (same efficiency, less bad debt); D (0.3, 60) by B (more kept, same debt);
    # E (0.9, 200) only by A (B keeps less than 0.9).
    by = dominated_by([1.0, 0.5, 0.5, 0.3, 0.9], [180.0, 60.0, 90.0, 60.0, 200.0])
    assert by.tolist() == [-1, -1, 1, 1, 0]


def test_socialized_share_is_what_the_fund_did_not_cover():
    # bad debt 10; funds of 0, 4 and 12 cover 0, 4 and 10: socialized 10, 6, 0
    cov = FundCoverage(insurance_fund=np.array([0.0, 4.0, 12.0]), bad_debt=10.0,
                       covered=np.array([0.0, 4.0, 10.0]), socialized=np.array([10.0, 6.0, 0.0]),
                       fund_after=np.array([0.0, 0.0, 2.0]), penalties=0.0)
    assert cov.socialized_share.tolist() == [1.0, 0.6, 0.0]
    assert np.allclose(cov.coverage + cov.socialized_share, 1.0)


def test_loss_share_is_the_share_of_starting_equity_liquidation_took():
    # compare_pooling's own docstring case: long 1 BTC, short 500 SOL, 12,000 cash, isolated
    # 4,000 / 8,000; SOL +7.5 %: the SOL bucket fails and loses its 8,000 of 12,000 equity.
    m = Market(["BTC", "SOL", "USDC"], [100_000.0, 200.0, 1.0],
               maintenance_margin=[0.0125, 0.025, 0.0], initial_margin=[0.025, 0.05, 0.0],
               liquidation_penalty=[0.0125, 0.0125, 0.0])
    acct = Account.from_positions(m, cash=12_000.0, perps={"BTC": 1.0, "SOL": -500.0})
    res = compare_pooling(acct, m, prices=[100_000.0, 215.0, 1.0],
                          split={"BTC": 1 / 3, "SOL": 2 / 3})
    assert res.loss_share[0] == 0.0                        # cross survives
    assert np.isclose(res.loss_share[1], res.loss[1] / 12_000.0)
    assert res.loss[1] > 0


def test_ltv_rising_marks_accounts_above_the_frontier():
    # 5 ETH at 2,000 (10,000) against 9,000 / 9,600 of debt: LTV 0.90 and 0.96. With a 5 %
    # bonus the frontier is 1 / 1.05 = 0.952: a call lowers the first LTV and raises the second.
    m = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
    book = Book.from_accounts([Account([5.0], cash=-9_000.0), Account([5.0], cash=-9_600.0)])
    path = liquidation_path(book, m, close_factor=0.5, calls=3)
    assert path.ltv_rising.tolist() == [False, True]
