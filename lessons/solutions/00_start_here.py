"""Lesson 00 exercise: the ETH price at which a 2,250 USDC loan against 1 ETH is liquidated.

Prints each answer as a labelled line ``label = number unit``; ``tests/test_solutions.py`` checks
every one against the numbers in the lesson's Solution block.
Run from the repository root: python lessons/solutions/00_start_here.py
"""
import numpy as np

from widgets.engine import Account, Market, margin_report

eth_market = Market(["ETH", "USDC"], [3_000.0, 1.0], asset_weight=[0.8, 1.0])
loan = Account([1.0, 0.0], cash=-2_250.0)             # 1 ETH deposited, 2,250 USDC borrowed
eth = np.linspace(2_000.0, 3_000.0, 101)              # candidate ETH prices
grid = np.column_stack([eth, np.ones_like(eth)])      # one row of prices per scenario

scan = margin_report(loan, eth_market, prices=grid)
liquidation_price = np.interp(0.0, scan.health, eth)   # health rises with the ETH price
at_line = margin_report(loan, eth_market, prices=[liquidation_price, 1.0])
print(f"ETH price below which the loan is liquidated = {liquidation_price:,.2f} USD")
print(f"health factor at that price = {at_line.health_factor:.4f}")
