"""Lesson 3 exercise: the hedged book's risk when the BTC-ETH correlation breaks.

Prints each answer as a labelled line ``label = number unit``; ``tests/test_solutions.py`` checks
every one against the numbers in the lesson's Solution block.
Run from the repository root: python lessons/solutions/03_correlation_effects.py
"""
import numpy as np

from widgets.engine import Account, Market, liquidation_probability, with_correlations

market = Market.example()
hedged = Account.from_positions(market, perps={"BTC": 1, "ETH": -25}, cash=10_000)
rhos = [0.8, 0.5, 0.3]

probabilities = [liquidation_probability(hedged, with_correlations(market, {"BTC-ETH": rho}),
                                         10_000, seed=0) for rho in rhos]
for rho, p in zip(rhos, probabilities):
    print(f"1. BTC-ETH {rho:.2f}: cross probability of liquidation = {100 * p:.2f} %")
print(f"2. growth from 0.80 to 0.30 = {probabilities[-1] / probabilities[0]:.1f}x")

# Bonus: with_correlations refuses a matrix that is not a possible correlation (its message
# names the range); the lowest BTC-ETH value it accepts, on a 0.01 grid, is the bound.
accepted = []
for rho in np.round(np.arange(-1.0, 1.0001, 0.01), 2):
    try:
        with_correlations(market, {"BTC-ETH": float(rho)})
    except ValueError:
        continue
    accepted.append(rho)
print(f"3. lowest BTC-ETH correlation the market allows = {min(accepted):.2f}")
