"""Lesson 6 exercise: the smallest insurance fund that leaves nothing to auto-deleveraging.

Rebuilds the cascade of lesson 6's InsuranceFundLab with the engine alone (10,000
``Book.random`` accounts, seed 0, the overheated preset; the example market with 30x depth and
its default liquidation rules, restore health; -10 % on BTC, ETH and SOL), then replays its
settlement for a grid of fund sizes with ``fund_coverage``.
Prints each answer as a labelled line ``label = number unit``; ``tests/test_solutions.py`` checks
every one against the numbers in the lesson's Solution block. Run from the repository root.
"""
import numpy as np

from widgets.engine import Book, Market, cascade, fund_coverage

market = Market.example()
book = Book.random(market, 10_000, seed=0, preset="overheated")   # the lesson's lab book
deep = market.replace(depth=market.depth * 30)             # the lab's depth (30x)
result = cascade(book, deep, {"BTC": -0.10, "ETH": -0.10, "SOL": -0.10})

funds = np.arange(0.0, 40e6 + 1, 0.25e6)                   # $0 to $40 M in $0.25 M steps
coverage = fund_coverage(result, funds)
smallest_fund = funds[coverage.socialized == 0].min()
exact = fund_coverage(result, 0.0).socialized[0]   # each fund dollar removes one ADL dollar
in_time = coverage.bad_debt - exact                        # bad debt the penalties pay

print(f"smallest fund on the grid = {smallest_fund:,.0f} USD")
print(f"smallest fund, exact (socialized with no fund) = {exact:,.0f} USD")
print(f"bad debt = {coverage.bad_debt:,.0f} USD")
print(f"penalties that arrive in time to pay bad debt = {in_time:,.0f} USD")
print(f"penalties that arrive after the last bad debt = {coverage.penalties - in_time:,.0f} USD")
