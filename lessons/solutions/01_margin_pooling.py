"""Lesson 01 exercise: collateral a BTC/ETH pair trade needs, cross vs isolated.

Prints each answer as a labelled line ``label = number unit``; ``tests/test_solutions.py`` checks
every one against the numbers in the lesson's Solution block.
Run from the repository root: python lessons/solutions/01_margin_pooling.py
"""
from widgets.engine import Account, Market, capital_required

market = Market.example()
pair = Account.from_positions(market, perps={"BTC": 1, "ETH": -25})   # $100,000 each side
rally = market.shocked({"BTC": 0.10, "ETH": 0.10}).prices             # both rise 10 %

for name, prices in (("today", market.prices), ("after the rally", rally)):
    need_cross = capital_required(pair, market, prices, mode="cross")
    need_isolated = capital_required(pair, market, prices, mode="isolated")
    print(f"{name}: collateral needed in cross = {need_cross:,.0f} USD")
    print(f"{name}: collateral needed in isolated = {need_isolated:,.0f} USD")
    print(f"{name}: pooling saves = {need_isolated - need_cross:,.0f} USD")
