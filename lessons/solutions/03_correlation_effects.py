"""Lesson 3 exercise: the hedged book's risk when the BTC-ETH correlation breaks.

Run from the repository root: python lessons/solutions/03_correlation_effects.py
"""
from widgets.engine import Account, Market, liquidation_probability, with_correlations

market = Market.example()
hedged = Account.from_positions(market, perps={"BTC": 1, "ETH": -25}, cash=10_000)
rhos = [0.8, 0.5, 0.3]

probabilities = [liquidation_probability(hedged, with_correlations(market, {"BTC-ETH": rho}),
                                         10_000, seed=0) for rho in rhos]
for rho, p in zip(rhos, probabilities):
    print(f"BTC-ETH {rho:.2f}: cross probability of liquidation {p:.2%}")
print(f"growth from 0.80 to 0.30: {probabilities[-1] / probabilities[0]:.1f}x")
try:
    with_correlations(market, {"BTC-ETH": 0.0})
except ValueError as err:
    print(err)
