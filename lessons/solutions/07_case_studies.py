"""Lesson 7 exercise: the largest MNGO-PERP position FTX's sqrt-size rule allows on $5 M.

FTX's initial margin fraction for MNGO: IMF = max(base, 0.00025 * sqrt(size in tokens)), capped at
a fully funded position (100 %). The stylized Mango market of lesson 7 has a 20 % base; wallet B
deposits $5 M and buys at $0.0382.
Prints each answer as a labelled line ``label = number unit``; ``tests/test_solutions.py`` checks
every one against the numbers in the lesson's Solution block. Run from the repository root.
"""
import numpy as np

from widgets.engine import Account, Market, margin_report

mango = Market(["MNGO", "USDC"], [0.0382, 1.0], asset_weight=[0.6, 1.0],
               liability_weight=[1.4, 1.0], maintenance_margin=[0.10, 0.0],
               initial_margin=[0.20, 0.0], volatility=[0.10, 0.001])
wallet_b = Account([0.0, 0.0], perps=[483e6, 0.0], entry_prices=[0.0382, 0.0], cash=5e6)

sizes = np.arange(1e6, 200e6 + 1, 1e6)                 # 1 M to 200 M MNGO, in 1 M steps
imf = np.minimum(1.0, np.maximum(0.20, 0.00025 * np.sqrt(sizes)))
allowed = []
for q, f in zip(sizes, imf):
    rules = mango.replace(initial_margin=[f, 0.0])
    if margin_report(wallet_b.replace(perps=[q, 0.0]), rules).initial_health >= 0:
        allowed.append(q)
largest = max(allowed)

rules = mango.replace(initial_margin=[1.0, 0.0])        # IMF is capped at 100 % for this size
borrow = margin_report(wallet_b.replace(perps=[largest, 0.0]), rules.with_prices([0.91, 1.0]))
stylized = margin_report(wallet_b, mango.with_prices([0.91, 1.0]))
print(f"largest position on the grid = {largest:,.0f} MNGO")
print(f"exact limit, fully funded (5 M USD / 0.0382 USD) = {5e6 / 0.0382:,.0f} MNGO")
print(f"smallest size at which the IMF reaches its 100 % cap = "
      f"{sizes[imf >= 1.0].min():,.0f} MNGO")
print(f"borrowing power at 0.91 USD = {borrow.initial_health:,.0f} USD")
print(f"borrowing power at 0.91 USD, stylized Mango rule for 483 M = "
      f"{stylized.initial_health:,.0f} USD")
