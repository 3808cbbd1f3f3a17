"""Hypothesis properties of brackets, init weights and liquidation prices (issue 11).

* the maintenance requirement (and so health) is continuous in notional across bracket floors;
* ``liquidation_price`` zeroes the health of the part that holds the position, health changes
  sign across it, and where it is NaN health has one sign at every positive price;
* init health <= maintenance health on every market with stricter-or-equal init weights.
"""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from widgets.engine import Account, liquidation_price, margin_report
from tests.support.strategies import books, fast, markets, shocks
from tests.support.tolerances import money_atol

SETTINGS = fast(60)


def part_health(book, market, j, P):
    """Health of the part holding asset j's position: bucket (isolated with a perp) or pool."""
    r = margin_report(book, market, P)
    bucket = book.isolated & (book.perps[:, j] != 0)
    return np.where(bucket, np.nan_to_num(r.bucket_health[:, j]), r.pool_health)


@SETTINGS
@given(markets(tiered=True), st.data())
def test_requirement_continuous_across_floors(market, data):
    for a in market.assets:
        t = market.bracket_table(a)
        j = market.index(a)
        for k, floor in enumerate(t["floor"][1:], start=1):
            N = np.zeros((2, market.n_assets))
            N[0, j] = np.nextafter(floor, 0.0)
            N[1, j] = floor
            below, at = market.maintenance_requirement(N)[:, j]
            assert abs(at - below) <= 1e-9 * max(1.0, floor), (a, k, below, at)
            # ... and so is an account's health, position size just below / at the floor.
            q = data.draw(st.sampled_from((1.0, -1.0))) * floor / market.prices[j]
            perps = np.zeros(market.n_assets)
            health = []
            for size in (np.nextafter(q, 0.0), q):
                perps[j] = size
                acct = Account(np.zeros(market.n_assets), perps=perps,
                               entry_prices=np.where(perps != 0, market.prices, 0.0),
                               cash=floor)
                health.append(margin_report(acct, market).health)
            assert abs(health[1] - health[0]) <= 1e-9 * max(1.0, floor) * 4


@SETTINGS
@given(markets(tiered=True, init_weights=True), st.data())
def test_init_health_at_most_maintenance_health(market, data):
    book = data.draw(books(market))
    P = market.prices * (1.0 + np.array(data.draw(shocks(market.n_assets))))
    r = margin_report(book, market, P)
    tol = money_atol(book, P)
    assert (r.initial_health <= r.pool_health + tol).all()
    assert (r.initial_requirement >= r.maintenance_requirement - tol).all()


@SETTINGS
@given(markets(tiered=True, init_weights=True), st.data())
def test_liquidation_price_zeroes_health(market, data):
    book = data.draw(books(market, max_accounts=10))
    j = data.draw(st.integers(0, market.n_assets - 1))
    lp = liquidation_price(book, market, market.assets[j])
    assert lp.shape == (book.n_accounts,)
    P0 = market.prices
    for a in np.flatnonzero(np.isfinite(lp)):
        x = lp[a]
        assert x > 0
        one = book.account(a)
        P = P0.copy()
        P[j] = x
        h0 = part_health(one.to_book(), market, j, P)[0]
        slack = money_atol(one.to_book(), np.maximum(P, P0), rel=1e-7)
        assert abs(h0) <= slack, (a, x, h0)
        # Across the root health takes both signs (a step of 1e-6 relative to the price).
        lo, hi = P.copy(), P.copy()
        lo[j], hi[j] = x * (1 - 1e-6), x * (1 + 1e-6)
        h_lo = part_health(one.to_book(), market, j, lo)[0]
        h_hi = part_health(one.to_book(), market, j, hi)[0]
        assert min(h_lo, h_hi) <= slack and max(h_lo, h_hi) >= -slack, (h_lo, h0, h_hi)
    # Where there is no root, health keeps one sign over a wide grid of prices.
    grid = P0[j] * np.geomspace(1e-3, 1e3, 121)
    rows = np.repeat(P0[None, :], grid.size, axis=0)
    rows[:, j] = grid
    r = margin_report(book, market, rows)
    bucket = book.isolated & (book.perps[:, j] != 0)
    H = np.where(bucket, np.nan_to_num(r.bucket_health[..., j]), r.pool_health)  # (S, A)
    for a in np.flatnonzero(np.isnan(lp)):
        h = H[:, a]
        big = np.abs(h) > money_atol(book, rows.max(0), rel=1e-7)
        signs = np.sign(h[big])
        assert signs.size == 0 or (signs == signs[0]).all(), (a, h)
