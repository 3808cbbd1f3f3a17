"""Lesson 4 exercise: one partial liquidation (close factor 0.5, penalty 5 %) of five accounts.

Which accounts' LTV rises? With the penalty charged on the share of the debt closed, the engine's
fixed-fraction rule has Aave's frontier LTV = 1 / (1 + penalty) = 0.9524, and one call with
f = 0.5 maps LTV to 2.05 x LTV - 1 (until the penalty is capped at the equity left).
Run from the repository root: python lessons/solutions/04_liquidation_mechanics.py
"""
from widgets.engine import Account, Book, Market, liquidate

market = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
debts = [9_000, 9_400, 9_500, 9_600, 9_800]

book = Book.from_accounts([Account([5.0], cash=-d) for d in debts])
after = liquidate(book, market, close_factor=0.5).book
ltv_after = -after.cash / (after.holdings[:, 0] * 2_000)
for d, ltv in zip(debts, ltv_after):
    before = d / 10_000
    print(f"LTV {before:.2f} -> {ltv:.4f} ({'rose' if ltv > before + 1e-12 else 'did not rise'}; "
          f"2.05 x LTV - 1 = {2.05 * before - 1:.4f})")
