"""Lesson 2 exercise: the lemonwheel borrower adds 1,000 USDC of collateral (Aave LT 76 %).

Find the new ETH liquidation price by evaluating margin_report on a one-cent grid of ETH prices.
Prints each answer as a labelled line ``label = number unit``; ``tests/test_solutions.py`` checks
every one against the numbers in the lesson's Solution block.
Run from the repository root: python lessons/solutions/02_collateral_haircuts_and_debt.py
"""
import numpy as np

from widgets.engine import Account, Market, liquidation_price, margin_report

lemon = Market(["ETH", "USDC"], [3_000.0, 1.0], asset_weight=[0.80, 0.76], liability_weight=1.0)
saver = Account.from_positions(lemon, holdings={"ETH": 1, "USDC": 1_000}, cash=-2_250)
eth_grid = np.arange(150_000, 300_001) / 100          # $1,500.00 ... $3,000.00, one cent apart

prices = np.column_stack([eth_grid, np.ones_like(eth_grid)])
report = margin_report(saver, lemon, prices=prices)
highest_liquidatable = eth_grid[report.liquidatable].max()
eth_liquidation_price = highest_liquidatable + 0.01
print(f"highest liquidatable grid price = {highest_liquidatable:,.2f} USD")
print(f"liquidation price (grid) = {eth_liquidation_price:,.2f} USD")     # $1,862.50
# The engine's closed form gives the same price without a grid:
print(f"liquidation price (closed form) = {liquidation_price(saver, lemon, 'ETH'):,.2f} USD")

# Without the deposit (the lesson's borrower), and netting the deposit against the loan instead
# (not how Aave counts it):
before = Account.from_positions(lemon, holdings={"ETH": 1}, cash=-2_250)
moved = liquidation_price(before, lemon, "ETH") - liquidation_price(saver, lemon, "ETH")
print(f"the deposit moves the liquidation price down by = {moved:,.2f} USD")
netted = Account.from_positions(lemon, holdings={"ETH": 1, "USDC": -1_250})
report = margin_report(netted, lemon, prices=prices)
print(f"liquidation price if the deposit were netted against the loan = "
      f"{eth_grid[report.liquidatable].max() + 0.01:,.2f} USD")
