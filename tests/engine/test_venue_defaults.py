"""The engine's defaults after issue 12: the example venue, restore-health liquidation, the
calibrated book, the common impact scale, isolated health counting only parts that can fail."""
from __future__ import annotations

import numpy as np
import pytest

from widgets.engine import (Account, Book, MarginInputError, Market, cascade,
                            liquidate, margin_report, penalty_consistency, price_impact)

SHOCK = {"BTC": -0.05, "ETH": -0.05, "SOL": -0.05}


def test_example_venue_passes_its_own_consistency_check():
    m = Market.example()
    assert penalty_consistency(m) is None
    assert m.liquidation_penalty.tolist() == [0.0125, 0.0125, 0.0125, 0.0]
    # the old example penalties are refused by name unless asked for explicitly
    with pytest.raises(MarginInputError, match=r"liquidation_penalty\[BTC\]"):
        m.replace(liquidation_penalty=[0.05, 0.05, 0.05, 0.0])
    m.replace(liquidation_penalty=[0.05, 0.05, 0.05, 0.0], allow_inconsistent_penalty=True)


def test_default_penalty_is_capped_to_a_consistent_value():
    # 5 % by default, but never above the maintenance margin or 1/weight - 1
    m = Market(["BTC", "USDC", "ETH"], [1.0, 1.0, 1.0], asset_weight=[0.9, 1.0, 0.96],
               maintenance_margin=[0.004, 0.05, 0.05], initial_margin=[0.01, 0.1, 0.1])
    assert m.liquidation_penalty == pytest.approx([0.004, 0.0, 1 / 0.96 - 1])


def test_default_liquidation_restores_health():
    # the account: cross long 1 BTC at 100,000 with 1,300, marked at 99,900
    # (health 1,200 - 1,248.75 = -48.75). Restoring init health would need more than its
    # equity, so it is closed in full; the 1.25 % penalty is capped at the 1,200 of equity.
    m = Market.example()
    a = Account([0.0] * 4, perps=[1.0, 0, 0, 0], entry_prices=[100_000.0, 0, 0, 0], cash=1_300.0)
    P = m.prices.copy()
    P[0] = 99_900.0
    assert margin_report(a, m, P).health == pytest.approx(-48.75)
    res = liquidate(a.to_book(), m, P)
    assert res.rules.convention == "restore" and res.fully_closed[0]
    assert res.penalty[0] == pytest.approx(1_200.0)
    assert margin_report(res.book, m, P).health[0] == pytest.approx(0.0)


def test_partial_restore_does_not_raise_bad_debt_on_the_lesson_scenarios():
    # The cascades the lessons run (10,000 accounts, -5 % on BTC/ETH/SOL, 30x depth). This is a
    # checked property of these scenarios, not a theorem: on some small books a partial
    # liquidation leaves a remainder that goes bankrupt later (see the engine notes).
    m = Market.example()
    m30 = m.replace(depth=m.depth * 30)
    for preset in ("calm", "overheated", "legacy"):
        b = Book.random(m, 10_000, seed=0, preset=preset)
        restore = cascade(b, m30, SHOCK)
        full = cascade(b, m30, SHOCK, rules="full")
        assert restore.bad_debt <= full.bad_debt + 1e-6, preset


def test_calm_and_overheated_shares():
    # direct share liquidated by a -5 % shock (no cascade) on 10,000 accounts, seed 0
    m = Market.example()
    P = m.shocked(SHOCK).prices
    calm = margin_report(Book.random(m, 10_000, seed=0), m, P).liquidatable.mean()
    hot = margin_report(Book.random(m, 10_000, seed=0, preset="overheated"), m, P).liquidatable.mean()
    assert calm == pytest.approx(0.020, abs=0.001)
    assert hot == pytest.approx(0.111, abs=0.001)


def test_impact_models_share_the_one_percent_point_by_default():
    m = Market.example()
    sale = np.array([0.0, 1e6 / 4_000, 0.0, 0.0])            # 1 % of ETH depth (1e8)
    moves = [price_impact(m, m.prices, sale, k)[1] / 4_000 - 1
             for k in ("linear", "sqrt", "exponential")]
    assert moves == pytest.approx([-0.01] * 3)


@pytest.mark.parametrize("cash", [0.0, 1.0, 500.0])
def test_isolated_health_counts_only_parts_that_can_fail(cash):
    # Isolated long 1 BTC with 5,000 posted; the pool holds only cash >= 0, which can never
    # fail: health is the bucket's 5,000 - 1.25 % x 100,000 = 3,750 whatever the cash (the issue
    # found 3,750 with 0 cash but 1.0 with $1).
    m = Market.example()
    a = Account([0.0] * 4, perps=[1.0, 0, 0, 0], entry_prices=[100_000.0, 0, 0, 0],
                mode="isolated", isolated_margin=[5_000.0, 0, 0, 0], cash=cash)
    r = margin_report(a, m)
    assert r.health == pytest.approx(3_750.0)
    assert r.health_factor == pytest.approx(4.0)
    # a pool that can fail (a debt) still counts
    b = Account([0.001, 0, 0, 0], perps=[1.0, 0, 0, 0], entry_prices=[100_000.0, 0, 0, 0],
                mode="isolated", isolated_margin=[5_000.0, 0, 0, 0], cash=-50.0)
    assert margin_report(b, m).health == pytest.approx(0.001 * 100_000 * 0.9 - 50.0)
