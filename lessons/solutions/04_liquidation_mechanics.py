"""Lesson 4 exercise: one partial liquidation (close factor 0.5, penalty 5 %) of five accounts.

Which accounts' LTV rises? With the penalty charged on the share of the debt closed, the engine's
fixed-fraction rule has Aave's frontier LTV = 1 / (1 + penalty) = 0.9524, and one call with
f = 0.5 maps LTV to 2.05 x LTV - 1 (until the penalty is capped at the equity left).
Prints each answer as a labelled line ``label = number unit``; ``tests/test_solutions.py`` checks
every one against the numbers in the lesson's Solution block.
Run from the repository root: python lessons/solutions/04_liquidation_mechanics.py
"""
from widgets.engine import Account, Book, Market, liquidate

market = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
debts = [9_000, 9_400, 9_500, 9_600, 9_800]

book = Book.from_accounts([Account([5.0], cash=-d) for d in debts])
result = liquidate(book, market, close_factor=0.5)
after = result.book
ltv_after = -after.cash / (after.holdings[:, 0] * 2_000)
penalty = float(market.liquidation_penalty[0])
print(f"frontier LTV 1 / (1 + penalty) = {1 / (1 + penalty):.4f}")
for d, ltv in zip(debts, ltv_after):
    before = d / 10_000
    print(f"LTV {before:.2f}: LTV after one call ({'rose' if ltv > before + 1e-12 else 'fell'}) "
          f"= {ltv:.4f}")
last = debts[-1]
print(f"LTV {last / 10_000:.2f}: 2.05 x LTV - 1 predicts = {2.05 * last / 10_000 - 1:.4f}")
print(f"LTV {last / 10_000:.2f}: equity before the call = {result.equity_before[-1]:,.2f} USD")
print(f"LTV {last / 10_000:.2f}: penalty due on half the debt = {penalty * 0.5 * last:,.2f} USD")
print(f"LTV {last / 10_000:.2f}: penalty the engine charges (capped) = "
      f"{result.penalty[-1]:,.2f} USD")
