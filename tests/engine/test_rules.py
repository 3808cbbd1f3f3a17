"""Liquidation conventions (issue 12): known answers computed by hand, flows, ADL, venue checks."""
from __future__ import annotations

import numpy as np
import pytest

from widgets.engine import (
    Account,
    Book,
    LiquidationRules,
    MarginInputError,
    Market,
    cascade,
    liquidate,
    margin_report,
    penalty_consistency,
    price_impact,
)


def conserved(res):
    lhs = res.equity_before.sum() + res.insurance_fund_before
    rhs = (res.equity_after.sum() + res.insurance_fund + res.liquidator_bonus.sum()
           - res.socialized_loss)
    return lhs == pytest.approx(rhs, rel=1e-12, abs=1e-6)


# -- Aave (domain.md section 1, derived worked example) -----------------------------------------

@pytest.fixture
def aave_eth():
    # WETH: LT 82.5 %, liquidation bonus 5 %; debt in the quote currency (USDC, weight 1)
    return Market(["ETH"], [2_000.0], asset_weight=0.825, liability_weight=1.0,
                  liquidation_penalty=0.05)


def test_aave_close_factor_and_bonus(aave_eth):
    # 10 ETH at 2,000 vs 17,000 debt: HF = 20,000 x 0.825 / 17,000 = 0.970588 > 0.95
    # -> 50 % cap: repay 8,500; seize 8,500 / 2,000 x 1.05 = 4.4625 ETH; bonus 0.2125 ETH = 425;
    # protocol fee 10 % of it = 42.50; liquidator keeps 382.50.
    acct = Account([10.0], cash=-17_000.0)
    assert margin_report(acct, aave_eth).health_factor == pytest.approx(0.970588, abs=1e-6)
    res = liquidate(acct.to_book(), aave_eth, rules=LiquidationRules.aave())
    assert res.book.holdings[0, 0] == pytest.approx(10 - 4.4625)
    assert res.book.cash[0] == pytest.approx(-8_500.0)
    assert res.units_sold[0] == pytest.approx(4.4625)          # seized collateral
    assert res.penalty[0] == pytest.approx(425.0)
    assert res.protocol_fee[0] == pytest.approx(42.5)
    assert res.liquidator_bonus[0] == pytest.approx(382.5)
    assert res.insurance_fund == pytest.approx(42.5)
    # after: collateral 5.5375 ETH = 11,075; HF = 11,075 x 0.825 / 8,500 = 1.074926
    hf = margin_report(res.book, aave_eth).health_factor[0]
    assert hf == pytest.approx(1.074926, abs=1e-6)
    assert not res.fully_closed[0]
    assert conserved(res)


def test_aave_full_close_at_or_below_095(aave_eth):
    # debt 17,600: HF = 16,500 / 17,600 = 0.9375 <= 0.95 -> all 17,600 repayable; seized 9.24 ETH,
    # bonus 0.44 ETH = 880, fee 88, liquidator 792; borrower keeps 0.76 ETH and no debt.
    res = liquidate(Account([10.0], cash=-17_600.0).to_book(), aave_eth, rules="aave")
    assert res.book.holdings[0, 0] == pytest.approx(0.76)
    assert res.book.cash[0] == pytest.approx(0.0, abs=1e-9)
    assert res.penalty[0] == pytest.approx(880.0)
    assert (res.protocol_fee[0], res.liquidator_bonus[0]) == (pytest.approx(88.0),
                                                               pytest.approx(792.0))
    assert conserved(res)


def test_aave_vs_fixed_fraction_of_everything():
    # The case: LT 0.8, 10 ETH vs 16,500 debt (HF 0.9697). Aave repays 50 % of the debt
    # (8,250) and seizes 8,250 x 1.05 / 2,000 = 4.33125 ETH; close_factor=0.5 instead sells 5 ETH
    # (10,000) and repays 8,250 of debt out of it.
    m = Market(["ETH"], [2_000.0], asset_weight=0.8, liability_weight=1.0,
               liquidation_penalty=0.05)
    b = Account([10.0], cash=-16_500.0).to_book()
    aave = liquidate(b, m, rules="aave")
    assert 10 - aave.book.holdings[0, 0] == pytest.approx(4.33125)
    assert aave.book.cash[0] == pytest.approx(-8_250.0)
    half = liquidate(b, m, close_factor=0.5, rules=LiquidationRules.fraction(0.5))
    assert 10 - half.book.holdings[0, 0] == pytest.approx(5.0)
    # penalty basis = debt repaid: 5 % of 8,250 in both
    assert half.penalty[0] == pytest.approx(412.5) and aave.penalty[0] == pytest.approx(412.5)


def test_penalty_basis_debt_repaid_not_every_leg():
    # 1 BTC against 420 SOL of debt (issue 12): full close repays 420 x 200 = 84,000 of debt.
    # Penalty on the debt repaid: 5 % x 84,000 = 4,200 (Aave); on every leg: 5 % x (100,000 +
    # 84,000) = 9,200 (the engine's original rule).
    m = Market(["BTC", "SOL"], [100_000.0, 200.0], asset_weight=0.9, liability_weight=1.1,
               liquidation_penalty=0.05)
    b = Account([1.0, -420.0]).to_book()
    assert margin_report(b, m).liquidatable[0]          # 90,000 < 92,400
    debt = liquidate(b, m, rules=LiquidationRules.full())
    legacy = liquidate(b, m, rules=LiquidationRules.full(penalty_basis="notional"))
    assert debt.penalty[0] == pytest.approx(4_200.0)
    assert legacy.penalty[0] == pytest.approx(9_200.0)
    assert debt.book.cash[0] == pytest.approx(16_000.0 - 4_200.0)


# -- restore health (Mango v4 worked case, domain.md section 4) ---------------------------------

def test_restore_health_by_hand():
    # Mango's BTC-PERP: maint 0.95 / init 0.9 weights -> mm 5 %, im 10 %; fee 1 % (<= mm).
    # 10,000 cash, long 10 at 10,000; mark 9,400: maint health = 10,000 - 6,000 - 4,700 = -700.
    # Init health = 4,000 - 9,400 = -5,400. Closing a fraction f at 9,400 gains
    # f x (initial requirement 9,400 - fee 1 % x 94,000 = 940) = 8,460 f -> f = 5,400 / 8,460.
    m = Market(["BTC"], [9_400.0], maintenance_margin=0.05, initial_margin=0.10,
               liquidation_penalty=0.01, allow_inconsistent_penalty=False)
    acct = Account([0.0], perps=[10.0], entry_prices=[10_000.0], cash=10_000.0)
    assert margin_report(acct, m).health == pytest.approx(-700.0)
    res = liquidate(acct.to_book(), m, rules=LiquidationRules.mango())
    f = 5_400.0 / 8_460.0
    assert res.pool_fraction[0] == pytest.approx(f, rel=1e-8)
    assert res.book.perps[0, 0] == pytest.approx(10 * (1 - f), rel=1e-8)
    assert res.penalty[0] == pytest.approx(940.0 * f, rel=1e-8)        # 1 % x 94,000 f
    assert res.liquidator_bonus[0] == pytest.approx(940.0 * f, rel=1e-8)   # Mango: to liquidator
    assert res.book.cash[0] == pytest.approx(10_000.0 - 6_000.0 * f - 940.0 * f, rel=1e-8)
    after = margin_report(res.book, m)
    assert after.initial_health[0] == pytest.approx(0.0, abs=1e-4)
    assert after.health[0] == pytest.approx(0.05 * 94_000 * (1 - f), rel=1e-6)   # > 0
    assert not after.liquidatable[0]
    assert conserved(res)


def test_restore_closes_in_full_without_equity():
    m = Market(["BTC"], [9_000.0], maintenance_margin=0.05, initial_margin=0.10,
               liquidation_penalty=0.01)
    acct = Account([0.0], perps=[10.0], entry_prices=[10_000.0], cash=5_000.0)  # equity -5,000
    res = liquidate(acct.to_book(), m, rules="restore")
    assert res.fully_closed[0] and res.book.perps[0, 0] == 0.0
    assert res.bad_debt[0] == pytest.approx(5_000.0)


def test_restore_isolated_bucket_by_hand():
    # bucket: margin 1,000, long 1 at 10,000, mark 9,100 -> equity 100 < mm 455; im 910.
    # Target: init health of the open part >= 1 % (end_buffer) of its notional:
    # 100 - f x 91 - (1 - f) x 910 >= (1 - f) x 91  ->  f = (910 + 91 - 100) / (910 - 91 + 91)
    m = Market(["BTC"], [9_100.0], maintenance_margin=0.05, initial_margin=0.10,
               liquidation_penalty=0.01)
    acct = Account([0.0], perps=[1.0], entry_prices=[10_000.0], mode="isolated",
                   isolated_margin=[1_000.0])
    res = liquidate(acct.to_book(), m, rules="restore")
    f = 901.0 / 910.0
    assert res.bucket_detail[0, 0, 0] == pytest.approx(f, rel=1e-8)
    assert not margin_report(res.book, m).liquidatable[0]


# -- ADL queue on a 4-account book (by hand) ----------------------------------------------------

def test_adl_queue_by_hand():
    # X at 80 (from 100). A: long 10 @ 100 with 50 cash -> equity 50 - 200 = -150: bankrupt,
    # bankruptcy price 100 - 50/10 = 95. No fund: 150 socialized to profitable shorts.
    # B: short 5 @ 100, cash 200: uPnL 100, PnL% 100/500 = 0.2, equity 300, leverage 400/300
    #    -> score 0.2667. C: short 2 @ 90, cash 20: uPnL 20, PnL% 0.111, equity 40, leverage 4
    #    -> score 0.444. D: short 1 @ 60, cash 100: losing (uPnL -20, equity 80), not queued.
    # Queue: C (rank 1) gives its 20 of profit, B (rank 2) its 100; the last 30 is spread over
    # the remaining equity (B 200, C 20, D 80 of 300): B +20, C +2, D +8.
    m = Market(["X"], [80.0], maintenance_margin=0.05, initial_margin=0.1,
               liquidation_penalty=0.01)
    b = Book(holdings=np.zeros((4, 1)), perps=[[10.0], [-5.0], [-2.0], [-1.0]],
             entry_prices=[[100.0], [100.0], [90.0], [60.0]], cash=[50.0, 200.0, 20.0, 100.0])
    res = liquidate(b, m, rules="full")
    assert res.liquidated.tolist() == [True, False, False, False]
    assert res.bankruptcy_price[0, 0] == pytest.approx(95.0)
    assert res.socialized_loss == pytest.approx(150.0)
    assert res.adl_rank.tolist() == [0, 2, 1, 0]
    want = [0.0, 120.0, 22.0, 8.0]
    assert res.socialized_by_account == pytest.approx(want)
    assert res.socialized_by_account.sum() == pytest.approx(res.socialized_loss)
    assert res.socialized_unassigned == 0.0


def test_adl_nobody_left_is_unassigned():
    m = Market(["X"], [80.0])
    res = liquidate(Account([0.0], perps=[10.0], entry_prices=[100.0], cash=50.0).to_book(), m,
                    rules="full")
    assert res.socialized_loss == pytest.approx(150.0)
    assert res.socialized_unassigned == pytest.approx(150.0)
    assert res.socialized_by_account.tolist() == [0.0]


# -- venue consistency checks -------------------------------------------------------------------

def test_consistency_refuses_perp_penalty_above_mm():
    with pytest.raises(MarginInputError, match=r"liquidation_penalty\[BTC\].*0\.0125.*0\.05"):
        Market(["BTC"], [1.0], maintenance_margin=0.0125, initial_margin=0.025,
               liquidation_penalty=0.05, allow_inconsistent_penalty=False)


def test_consistency_refuses_spot_bonus_above_weight():
    # weight 0.95 x 1.1 = 1.045 > 1 (Aave requires LT x (1 + bonus) <= 1)
    with pytest.raises(MarginInputError, match=r"liquidation_penalty\[ETH\].*asset_weight 0\.95"):
        Market(["ETH"], [1.0], asset_weight=0.95, maintenance_margin=0.2, initial_margin=0.2,
               liquidation_penalty=0.1, allow_inconsistent_penalty=False)


def test_consistency_allowed_explicitly():
    m = Market(["BTC"], [1.0], maintenance_margin=0.0125, initial_margin=0.025,
               liquidation_penalty=0.05, allow_inconsistent_penalty=True)
    assert penalty_consistency(m)[0] == "BTC"


def test_rules_validation():
    with pytest.raises(MarginInputError, match="close_factor"):
        LiquidationRules("fraction", close_factor=0.0)
    with pytest.raises(MarginInputError, match="protocol_share"):
        LiquidationRules(protocol_share=1.5)
    with pytest.raises(MarginInputError, match="rules"):
        liquidate(Account([1.0]).to_book(), Market(["X"], [1.0]), rules="sometimes")


# -- impact models on one scale; calibrated books -----------------------------------------------

def test_impact_common_scale():
    m = Market(["ETH"], [2_000.0], depth=1e6, volatility=0.04)
    one_pct = np.array([5.0])                      # 10,000 = 1 % of depth
    moves = [price_impact(m, np.array([2_000.0]), one_pct, k, scale="common")[0] / 2_000 - 1
             for k in ("linear", "sqrt", "exponential")]
    assert moves == pytest.approx([-0.01] * 3, rel=1e-9)
    ten = [price_impact(m, np.array([2_000.0]), 10 * one_pct, k, scale="common")[0] / 2_000 - 1
           for k in ("linear", "sqrt", "exponential")]
    # 10 % of depth: -10 %, -0.1 x sqrt(0.1) = -3.162 %, exp(-1.00503 x 0.1) - 1 = -9.562 %
    assert ten == pytest.approx([-0.1, -0.1 * np.sqrt(0.1), np.exp(-0.100503) - 1], rel=1e-4)


@pytest.mark.parametrize("preset", ["calm", "overheated"])
def test_book_presets_start_safe_and_are_reproducible(preset):
    m = Market.example()
    b = Book.random(m, 2_000, seed=3, preset=preset)
    assert not margin_report(b, m).liquidatable.any()
    assert np.array_equal(b.perps, Book.random(m, 2_000, seed=3, preset=preset).perps)


def test_overheated_fails_more_than_calm():
    m = Market.example()
    shock = m.prices * np.array([0.95, 0.95, 0.95, 1.0])
    share = {p: margin_report(Book.random(m, 5_000, seed=1, preset=p), m, shock).liquidatable.mean()
             for p in ("calm", "overheated")}
    assert share["calm"] < 0.05 < share["overheated"]
    with pytest.raises(MarginInputError, match="preset"):
        Book.random(m, 10, preset="hot")


# -- cascade exposes flows and ADL --------------------------------------------------------------

def test_cascade_flows_and_adl_sum():
    m = Market(["X"], [100.0], asset_weight=0.8, maintenance_margin=0.05, initial_margin=0.1,
               liquidation_penalty=0.04, depth=2_000.0)
    b = Book(holdings=[[1.0], [1.0], [0.0], [0.0]], perps=[[0.0], [0.0], [-3.0], [2.0]],
             entry_prices=[[0.0], [0.0], [100.0], [100.0]], cash=[-79.0, -76.0, 400.0, 100.0])
    res = cascade(b, m, shock=-0.1, rules=LiquidationRules.aave())
    assert res.socialized_by_account.sum() + res.socialized_unassigned == pytest.approx(
        res.socialized_loss)
    assert (res.socialized_by_account[res.liquidated] == 0).all()
    assert res.protocol_fee_by_round + res.liquidator_bonus_by_round == pytest.approx(
        res.penalty_by_round)


def test_adl_ranks_shown_even_when_the_fund_covers_everything():
    # the 4-account book above with a fund of 1,000: nothing is socialized, the queue still
    # ranks C before B (BitMEX shows the ADL indicator at all times)
    m = Market(["X"], [80.0], maintenance_margin=0.05, initial_margin=0.1,
               liquidation_penalty=0.01)
    b = Book(holdings=np.zeros((4, 1)), perps=[[10.0], [-5.0], [-2.0], [-1.0]],
             entry_prices=[[100.0], [100.0], [90.0], [60.0]], cash=[50.0, 200.0, 20.0, 100.0])
    res = liquidate(b, m, rules="full", insurance_fund=1_000.0)
    assert res.socialized_loss == 0.0 and res.fund_payout == pytest.approx(150.0)
    assert res.socialized_by_account.tolist() == [0.0] * 4
    assert res.adl_rank.tolist() == [0, 2, 1, 0]


def test_fund_coverage_counts_only_the_protocol_share():
    # Aave sends 10 % of the bonus to the protocol: fund_coverage must replay exactly what the
    # cascade paid into the fund, for any starting balance
    from widgets.engine import fund_coverage
    m = Market(["X"], [100.0], asset_weight=0.8, maintenance_margin=0.05, initial_margin=0.1,
               liquidation_penalty=0.05, depth=2_000.0)
    b = Book.from_accounts([Account([1.0], cash=-d) for d in (105.0, 78.0, 76.5, 70.0)])
    res = cascade(b, m, shock=-0.05, rules="aave")
    assert res.protocol_fee_by_round.sum() == pytest.approx(0.1 * res.penalty_by_round.sum())
    for fund in (0.0, 1.0, 50.0):
        direct = cascade(b, m, shock=-0.05, rules="aave", insurance_fund=fund)
        cov = fund_coverage(res, fund)
        assert cov.socialized[0] == pytest.approx(direct.socialized_loss, abs=1e-12)
        assert cov.fund_after[0] == pytest.approx(direct.insurance_fund_by_round[-1], abs=1e-12)
