"""Known answers for the measures the cascade labs show: CascadeResult's totals and running
sums, FundCoverage's coverage and late penalties, LiquidationRules.named / .of.

Worked by hand on the insurance module's three-account case: X at 100, weight 0.8, penalty 5 %,
depth 2,000 (1 unit sold moves the price 5 % linearly), legacy rules (close everything, 5 % of
the notional sold to the fund); debts 105, 76.5 and 70. A 5 % shock (X at 95) fails the first
two: the first is 10 under water (bad debt 10), the second pays 4.75. Two units sold: X at
95 x (1 - 0.10) = 85.5, which fails the third (penalty 4.275); three units sold: 80.75.
"""
import numpy as np
import pytest

from widgets.engine import (Account, Book, LiquidationRules, MarginInputError, Market, cascade,
                            fund_coverage)

X = Market(["X"], [100.0], asset_weight=0.8, liquidation_penalty=0.05, depth=2_000.0)
BOOK = Book.from_accounts([Account([1.0], cash=-d) for d in (105.0, 76.5, 70.0)])


@pytest.fixture(scope="module")
def res():
    return cascade(BOOK, X, shock=-0.05, rules="legacy")


def test_running_sums_by_round(res):
    assert res.n_rounds == 2
    np.testing.assert_allclose(res.price_change_by_round[:, 0], [-0.05, -0.145, -0.1925])
    assert res.liquidated_so_far.tolist() == [0, 2, 3]
    np.testing.assert_allclose(res.bad_debt_so_far, [0.0, 10.0, 10.0])
    # no fund: round 1's 4.75 of penalties pays part of its 10 of bad debt, 5.25 is socialized
    np.testing.assert_allclose(res.socialized_so_far, [0.0, 5.25, 5.25])


def test_totals(res):
    assert res.protocol_fee == pytest.approx(4.75 + 4.275)
    assert res.liquidator_bonus == 0.0                     # legacy: all of it to the fund
    assert res.covered_by_fund == pytest.approx(4.75)
    aave = cascade(BOOK, X, shock=-0.05, rules="aave")
    # Aave: the liquidator keeps 90 % of the bonus, the protocol 10 %
    assert aave.liquidator_bonus == pytest.approx(9 * aave.protocol_fee)
    assert aave.protocol_fee + aave.liquidator_bonus == pytest.approx(aave.penalty_by_round.sum())


def test_late_penalties_and_coverage(res):
    cov = fund_coverage(res, [0.0, 3.0, 10.0, 20.0])
    # round 2's 4.275 arrives after the fund ran dry in round 1: too late, unless nothing
    # was socialized (a fund of 10 or more pays everything)
    np.testing.assert_allclose(cov.late_penalties, [4.275, 4.275, 0.0, 0.0])
    np.testing.assert_allclose(cov.coverage, [0.475, 0.775, 1.0, 1.0])
    # the identity the old view computed: fund + penalties - covered, where socialized > 0
    late = cov.insurance_fund + cov.penalties - cov.covered
    np.testing.assert_allclose(cov.late_penalties[:2], late[:2])


def test_coverage_without_bad_debt_is_one():
    solvent = Book.from_accounts([Account([1.0], cash=-d) for d in (76.5, 70.0)])
    calm = cascade(solvent, X, shock=-0.05, rules="legacy")      # only the 76.5 one fails
    cov = fund_coverage(calm, [0.0, 5.0])
    assert cov.bad_debt == 0 and cov.coverage.tolist() == [1.0, 1.0]
    assert cov.late_penalties.tolist() == [0.0, 0.0]


def test_who_is_deleveraged_largest_first():
    # A perp long of 500 ABC with 100 of cash: a 50 % fall leaves it 150 under water. The
    # shorts: #1 (400 short, 1,000 cash: rank 0.5 x 200/1,200 = 0.083) and #2 (200 short,
    # 100 cash: rank 0.5 x 100/200 = 0.25) take the loss in rank order, each up to its profit:
    # #2 gives up its 100, #1 the other 50.
    abc = Market(["ABC"], [1.0], asset_weight=0.0, liability_weight=1.0,
                 maintenance_margin=0.03, initial_margin=0.05, liquidation_penalty=0.015,
                 depth=1e9)
    book = Book.from_accounts([
        Account([0.0], perps=[500.0], entry_prices=[1.0], cash=100.0),
        Account([0.0], perps=[-400.0], entry_prices=[1.0], cash=1_000.0),
        Account([0.0], perps=[-200.0], entry_prices=[1.0], cash=100.0)])
    res = cascade(book, abc, shock=-0.5)
    assert res.socialized_loss == pytest.approx(150.0)
    assert res.deleveraged.tolist() == [2, 1]
    np.testing.assert_allclose(res.socialized_share_by_account, [0.0, 1 / 3, 2 / 3], atol=1e-6)
    nobody = cascade(book, abc, shock=-0.01)
    assert nobody.deleveraged.size == 0
    assert nobody.socialized_share_by_account.tolist() == [0.0, 0.0, 0.0]


def test_named_rules():
    m = Market.example()
    assert LiquidationRules.of(m) == LiquidationRules("restore", protocol_share=1.0)
    assert LiquidationRules.named("restore", market=m) is LiquidationRules.of(m)
    assert LiquidationRules.named("aave") == LiquidationRules.aave()
    assert LiquidationRules.named("full") == LiquidationRules.full()
    assert LiquidationRules.named("fraction", 0.3) == LiquidationRules.fraction(0.3)
    mango = m.replace(liquidation_rules=LiquidationRules.mango())
    assert LiquidationRules.named("restore", market=mango) == LiquidationRules.mango()
    assert LiquidationRules.named("restore") == LiquidationRules("restore", protocol_share=1.0)
    for bad in ("sometimes", 3, None):
        with pytest.raises(MarginInputError, match="convention must be one of"):
            LiquidationRules.named(bad)
    with pytest.raises(MarginInputError, match="close_factor"):
        LiquidationRules.named("restore", 0.0)           # checked whatever the convention
