"""Lesson 2 exercise: the lemonwheel borrower adds 1,000 USDC of collateral (Aave LT 76 %).

Find the new ETH liquidation price by evaluating margin_report on a one-cent grid of ETH prices.
Run from the repository root: python lessons/solutions/02_collateral_haircuts_and_debt.py
"""
import numpy as np

from widgets.engine import Account, Market, liquidation_price, margin_report

lemon = Market(["ETH", "USDC"], [3_000.0, 1.0], asset_weight=[0.80, 0.76], liability_weight=1.0)
saver = Account.from_positions(lemon, holdings={"ETH": 1, "USDC": 1_000}, cash=-2_250)
eth_grid = np.arange(150_000, 300_001) / 100          # $1,500.00 ... $3,000.00, one cent apart

prices = np.column_stack([eth_grid, np.ones_like(eth_grid)])
report = margin_report(saver, lemon, prices=prices)
eth_liquidation_price = eth_grid[report.liquidatable].max() + 0.01
print(f"liquidation price ${eth_liquidation_price:,.2f}")     # $1,862.50
# The engine's closed form gives the same price without a grid:
print(f"closed form       ${liquidation_price(saver, lemon, 'ETH'):,.2f}")

# Netting the deposit against the loan instead (not how Aave counts it):
netted = Account.from_positions(lemon, holdings={"ETH": 1, "USDC": -1_250})
report = margin_report(netted, lemon, prices=prices)
print(f"if the deposit were netted against the loan: ${eth_grid[report.liquidatable].max() + 0.01:,.2f}")
