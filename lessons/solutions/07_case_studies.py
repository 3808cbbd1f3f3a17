"""Lesson 7 exercise: the largest MNGO-PERP position FTX's sqrt-size rule allows on $5 M.

FTX's initial margin fraction for MNGO: IMF = max(base, 0.00025 * sqrt(size in tokens)), capped at
a fully funded position (100 %). The stylized Mango market of lesson 7 has a 20 % base; wallet B
deposits $5 M and buys at $0.0382. Run from the repository root.
"""
import numpy as np

from widgets.engine import Account, Market, margin_report

mango = Market(["MNGO", "USDC"], [0.0382, 1.0], asset_weight=[0.6, 1.0],
               liability_weight=[1.4, 1.0], maintenance_margin=[0.10, 0.0],
               initial_margin=[0.20, 0.0], volatility=[0.10, 0.001])
wallet_b = Account([0.0, 0.0], perps=[483e6, 0.0], entry_prices=[0.0382, 0.0], cash=5e6)

sizes = np.arange(1e6, 200e6 + 1, 1e6)                 # 1 M to 200 M MNGO, in 1 M steps
allowed = []
for q in sizes:
    rules = mango.replace(initial_margin=[min(1.0, max(0.20, 0.00025 * np.sqrt(q))), 0.0])
    if margin_report(wallet_b.replace(perps=[q, 0.0]), rules).initial_health >= 0:
        allowed.append(q)
largest = max(allowed)

rules = mango.replace(initial_margin=[1.0, 0.0])        # IMF is capped at 100 % for this size
borrow = margin_report(wallet_b.replace(perps=[largest, 0.0]), rules.with_prices([0.91, 1.0]))
print(f"largest position {largest:,.0f} MNGO (exact limit {5e6 / 0.0382:,.0f}: fully funded)")
print(f"borrowing power at $0.91 ${borrow.initial_health:,.0f} "
      f"(stylized Mango rule for 483 M: ${margin_report(wallet_b, mango.with_prices([0.91, 1.0])).initial_health:,.0f})")
