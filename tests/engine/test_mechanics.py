"""Known-answer tests for widgets.engine.mechanics (arithmetic written out)."""
import numpy as np
import pytest

from widgets.engine import Account, Book, Market, MarginInputError, cascade, liquidate
from widgets.engine.rulebook import LiquidationRules
from widgets.engine.mechanics import (adl_queue, liquidation_path, loan_to_value, ltv_frontier,
                                      pareto_front, perp_notional, score_policy, stress_policy)

ETH = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
# the engine's original convention: a fixed half of everything, penalty on the notional sold
HALF_NOTIONAL = LiquidationRules.fraction(0.5, "notional")
PAIR = Book.from_accounts([Account([5.0], cash=-9_000.0), Account([5.0], cash=-9_600.0)])


def test_ltv_by_hand():
    book = Book.from_accounts([Account([5.0], cash=-9_600.0), Account([0.0], cash=0.0),
                               Account([0.0], cash=-10.0), Account([2.0], cash=1_000.0)])
    ltv = loan_to_value(book, np.array([2_000.0]))
    assert ltv[0] == pytest.approx(9_600 / 10_000)
    assert np.isnan(ltv[1]) and np.isinf(ltv[2])
    assert ltv[3] == 0.0                                   # no debt


def test_frontier_is_one_minus_penalty_on_notional_and_aaves_on_debt():
    assert ltv_frontier(PAIR, ETH, rules=HALF_NOTIONAL).tolist() == pytest.approx([0.95, 0.95])
    # penalty on the debt repaid (the default basis, and Aave's seize = debt x (1 + bonus))
    for rules in (None, "aave", LiquidationRules.fraction(0.5)):
        assert ltv_frontier(PAIR, ETH, rules=rules).tolist() == pytest.approx([1 / 1.05] * 2)
    two = Market(["A", "B"], [10.0, 10.0], asset_weight=0.8, liquidation_penalty=[0.05, 0.15],
                 maintenance_margin=0.2, initial_margin=0.3)
    # 1 A and 3 B: value-weighted penalty (10 x 0.05 + 30 x 0.15) / 40 = 0.125
    b = Book.from_accounts([Account([1.0, 3.0], cash=-20.0)])
    assert ltv_frontier(b, two, rules=HALF_NOTIONAL)[0] == pytest.approx(0.875)
    assert ltv_frontier(b, two)[0] == pytest.approx(1 / 1.125)


def test_path_spiral_by_hand():
    path = liquidation_path(PAIR, ETH, calls=4, rules=HALF_NOTIONAL)
    # A: 9,000 -> sell 2.5 ETH (5,000), penalty 250, repay 4,750 -> debt 4,250 on 5,000: 0.85;
    #    call 2: 0.825 x 5,000 = 4,125 < 4,250 -> sell 2,500, penalty 125, repay 2,375 -> 1,875
    #    on 2,500 = 0.75 (HF 0.825 x 2,500 / 1,875 = 1.10): healthy, calls 3-4 do nothing.
    # B: LTV' = 2 LTV - 0.95: 0.96 -> 0.97 -> 0.99; equity 400 -> 150 -> 25 (penalties 250, 125);
    #    call 3: penalty due 62.50 > equity 25 -> capped: 625 / 625 = 1.00, equity 0.
    np.testing.assert_allclose(path.ltv[:, 0], [0.90, 0.85, 0.75, 0.75, 0.75])
    np.testing.assert_allclose(path.ltv[:4, 1], [0.96, 0.97, 0.99, 1.00])
    np.testing.assert_allclose(path.equity[:4, 1], [400.0, 150.0, 25.0, 0.0], atol=1e-9)
    np.testing.assert_allclose(path.penalty[:3, 1], [250.0, 125.0, 25.0])
    np.testing.assert_allclose(path.health_factor[2, 0], 1.10)
    assert path.liquidated[:, 0].tolist() == [True, True, False, False]
    assert path.last_call().tolist() == [2, 4]
    assert path.bad_debt.sum() == 0.0
    # the direct calls agree
    r1 = liquidate(PAIR, ETH, rules=HALF_NOTIONAL)
    np.testing.assert_allclose(path.equity[1], r1.equity_after)
    assert path.ltv.shape == (5, 2) and path.n_calls == 4


def test_path_below_frontier_falls_above_rises():
    debts = [9_000, 9_400, 9_500, 9_600, 9_800]
    book = Book.from_accounts([Account([5.0], cash=-d) for d in debts])
    path = liquidation_path(book, ETH, calls=1, rules=HALF_NOTIONAL)
    start, after = path.ltv[0], path.ltv[1]
    below, above = start < path.frontier, start > path.frontier
    assert np.all(after[below] < start[below]) and np.all(after[above] > start[above])
    assert after[2] == pytest.approx(0.95)                   # on the frontier: unchanged
    # Aave's 50 % step (its 100 % branch at HF <= 0.95 switched off: every account here is
    # below 0.95): frontier 1 / 1.05, debt 9,523.81 on 10,000 of ETH stays put
    debts = [9_000, 9_400, 10_000 / 1.05, 9_600, 9_800]
    book = Book.from_accounts([Account([5.0], cash=-d) for d in debts])
    half = LiquidationRules("aave", close_factor=0.5, full_close_below=0.0, protocol_share=0.1)
    path = liquidation_path(book, ETH, calls=1, rules=half)
    start, after = path.ltv[0], path.ltv[1]
    below, above = start < path.frontier - 1e-12, start > path.frontier + 1e-12
    assert below.sum() == 2 and above.sum() == 2
    assert np.all(after[below] < start[below]) and np.all(after[above] > start[above])
    assert after[2] == pytest.approx(1 / 1.05)


def test_path_bad_input():
    with pytest.raises(MarginInputError, match="calls"):
        liquidation_path(PAIR, ETH, calls=0)
    with pytest.raises(MarginInputError, match="close_factor"):
        liquidation_path(PAIR, ETH, close_factor=1.5)


X = Market(["X"], [100.0], maintenance_margin=0.03, initial_margin=0.05)
SHORTS = Book.from_accounts([Account([0.0], perps=[-1.0], entry_prices=[ep], cash=cash)
                             for ep, cash in ((180.0, 250.0), (105.0, 45.0), (101.0, 19.0))])


def test_adl_ranks_by_hand():
    q = adl_queue(SHORTS, X, "X", "short")
    # hedge: PnL 80/180, equity 250 + 80 = 330, leverage 100/330
    assert q.rank[0] == pytest.approx(80 / 180 * 100 / 330)
    assert q.rank[1] == pytest.approx(5 / 105 * 100 / 50)
    assert q.rank[2] == pytest.approx(1 / 101 * 100 / 20)
    assert q.order.tolist() == [0, 1, 2]
    assert q.closed_units.sum() == 0 and q.given_up.sum() == 0


def test_adl_assignment_by_hand():
    q = adl_queue(SHORTS, X, "X", "short", quantity=2.5, bankruptcy_price=103.0)
    assert q.closed_units.tolist() == [1.0, 1.0, 0.5]
    assert q.given_up.tolist() == pytest.approx([3.0, 3.0, 1.5])
    q = adl_queue(SHORTS, X, "X", "short", quantity=4.0, bankruptcy_price=103.0)
    assert q.unfilled == pytest.approx(1.0)


def test_adl_dydx_example():
    """dYdX: B short 500 bankrupt at 1.20 with the mark at 2; A long 500 gives up 400."""
    # a perp-only asset: no spot collateral value (asset_weight 0), so the venue check passes
    abc = Market(["ABC"], [1.0], asset_weight=0.0, liability_weight=1.0,
                 maintenance_margin=0.03, initial_margin=0.05, liquidation_penalty=0.015)
    a = Account([0.0], perps=[500.0], entry_prices=[1.0], cash=100.0)
    q = adl_queue(a, abc, "ABC", "long", quantity=500.0, bankruptcy_price=1.2, prices=[2.0])
    assert q.given_up.tolist() == pytest.approx([400.0])
    assert q.pnl[0] - q.given_up[0] == pytest.approx(100.0)       # A keeps $100
    # the engine's socialized loss for B is the same $400
    b = Account([0.0], perps=[-500.0], entry_prices=[1.0], cash=100.0)
    assert liquidate(b, abc, prices=[2.0]).socialized_loss == pytest.approx(q.given_up.sum())


def test_adl_excludes_losers_wrong_side_and_isolated_uses_bucket():
    book = Book.from_accounts([
        Account([0.0], perps=[-1.0], entry_prices=[90.0], cash=50.0),     # short at a loss
        Account([0.0], perps=[2.0], entry_prices=[50.0], cash=10.0),      # long: other side
        Account([0.0], perps=[-1.0], entry_prices=[120.0], mode="isolated",
                isolated_margin=[10.0], cash=1_000.0)])                  # bucket 10 + 20 = 30
    q = adl_queue(book, X, "X", "short")
    assert q.order.tolist() == [2]
    assert np.isnan(q.rank[:2]).all()
    assert q.leverage[2] == pytest.approx(100 / 30)
    assert q.rank[2] == pytest.approx(20 / 120 * 100 / 30)


@pytest.mark.parametrize("kw, words", [({"side": "flat"}, "side"),
                                       ({"asset": "Y"}, "asset"),
                                       ({"quantity": 1.0}, "bankruptcy_price"),
                                       ({"quantity": -1.0}, "quantity")])
def test_adl_bad_input(kw, words):
    args = {"asset": "X", "side": "short", **kw}
    with pytest.raises(MarginInputError, match=words):
        adl_queue(SHORTS, X, **args)


def test_pareto_front_by_hand():
    assert pareto_front([1.0, 0.5, 0.5, 0.3], [180.0, 60.0, 90.0, 60.0]).tolist() == \
        [True, True, False, False]
    assert pareto_front([0.5, 0.5], [60.0, 60.0]).tolist() == [True, True]
    with pytest.raises(MarginInputError):
        pareto_front([1.0], [1.0, 2.0])


def test_score_policy_equals_direct_calls():
    m = Market.example()
    shock = {"BTC": -0.2, "ETH": -0.25, "SOL": -0.3}
    today = Book.random(m, 800, seed=3)
    base = float((np.abs(today.perps) @ m.prices).sum())
    assert perp_notional(today, m) == pytest.approx(base)
    tight = m.replace(initial_margin=m.initial_margin * 2)
    s = score_policy(tight, shock, base, n_accounts=800, seed=3)
    adapted = Book.random(tight, 800, seed=3)
    res = cascade(adapted, tight, shock)
    assert s.bad_debt == pytest.approx(res.bad_debt)
    assert s.fund_needed == pytest.approx(res.socialized_loss)
    assert s.n_liquidated == res.n_liquidated
    assert s.capital_efficiency == pytest.approx((np.abs(adapted.perps) @ tight.prices).sum() / base)
    assert s.capital_efficiency < 0.95               # calm book: only the levered few shrink
    over = score_policy(tight, shock, perp_notional(Book.random(m, 800, seed=3,
                                                                preset="overheated"), m),
                        n_accounts=800, seed=3, preset="overheated")
    # overheated: more accounts near their limits, so halved leverage removes more notional
    assert over.capital_efficiency < s.capital_efficiency < 1.0
    b, r = stress_policy(tight, shock, 800, 3, preset="overheated")
    assert np.array_equal(b.perps, Book.random(tight, 800, seed=3, preset="overheated").perps)
    assert over.bad_debt == pytest.approx(r.bad_debt)
    b, r = stress_policy(tight, shock, 800, 3)
    assert np.array_equal(b.perps, adapted.perps) and r.bad_debt == pytest.approx(res.bad_debt)
    assert s.line("x2").startswith("x2 ")
    with pytest.raises(MarginInputError, match="baseline_notional"):
        score_policy(m, shock, 0.0, n_accounts=100)


def test_adl_uses_engine_scores_and_skips_liquidatable_accounts():
    from widgets.engine import adl_scores
    book = Book.from_accounts([
        Account([0.0], perps=[-1.0], entry_prices=[150.0], cash=-60.0),   # equity -10: failing
        Account([0.0], perps=[-1.0], entry_prices=[150.0], cash=50.0)])   # equity 100
    q = adl_queue(book, X, "X", "short")
    score, _ = adl_scores(book.holdings, book.perps, book.entry_prices, book.isolated_margin,
                          book.cash, book.isolated, X.prices)
    assert q.order.tolist() == [1]
    assert q.rank[1] == pytest.approx(score[1, 0]) == pytest.approx(50 / 150 * 100 / 100)
    assert np.isnan(q.rank[0])


def test_frontier_follows_the_penalty_basis():
    """Debt basis: a call closing f of everything pays p x (f x D); LTV' = (LTV (1 + p f) - f) /
    (1 - f) rises exactly when LTV > 1 / (1 + p) = 0.95238, not 0.95; an account at LTV 0.951
    sits between the two frontiers and tells them apart."""
    from widgets.engine import LiquidationRules
    book = Book.from_accounts([Account([5.0], cash=-0.951 * 10_000)])
    notional = LiquidationRules.fraction(0.5, penalty_basis="notional")
    debt = LiquidationRules.fraction(0.5, penalty_basis="debt")
    assert ltv_frontier(book, ETH, rules=notional)[0] == pytest.approx(0.95)
    assert ltv_frontier(book, ETH, rules=debt)[0] == pytest.approx(1 / 1.05)
    up = liquidation_path(book, ETH, calls=1, rules=notional)
    down = liquidation_path(book, ETH, calls=1, rules=debt)
    # notional: penalty 5 % of 5,000 sold: (9,510 - 4,750) / 5,000 = 0.952
    # debt: penalty 5 % of 4,755 debt closed = 237.75: (9,510 - 5,000 + 237.75) / 5,000 = 0.94955
    assert up.ltv[1, 0] == pytest.approx((9_510 - 4_750) / 5_000) and up.ltv[1, 0] > 0.951
    assert down.ltv[1, 0] == pytest.approx((9_510 - 5_000 + 237.75) / 5_000)
    assert down.ltv[1, 0] < 0.951
    assert up.frontier[0] == pytest.approx(0.95) and down.frontier[0] == pytest.approx(1 / 1.05)
