"""Lesson 8 exercise: the smallest initial-margin multiple whose crisis needs a fund of <= $8M.

Rebuilds the capstone's setting with the engine alone: the example market with 30x depth, the
shock panel's crisis preset (BTC -21 %, ETH -28 %, SOL -35 %, USDC -2 %) and, for each candidate
policy, the same 10,000 traders rebuilt under its rules (``Book.random(policy, 10_000, seed=0)``).
With no fund, the loss a cascade socializes is exactly the fund it needs.
Prints each answer as a labelled line ``label = number unit``; ``tests/test_solutions.py`` checks
every one against the numbers in the lesson's Solution block. Run from the repository root.
"""
import numpy as np

from widgets.engine import Book, Market, cascade, crisis_shock

venue = Market.example()
venue = venue.replace(depth=venue.depth * 30)
crisis = crisis_shock(venue)
today_notional = (np.abs(Book.random(venue, 10_000, seed=0).perps) @ venue.prices).sum()

smallest_k = previous = None
for k in np.arange(2.0, 4.01, 0.25):
    policy = venue.replace(initial_margin=venue.initial_margin * k)
    adapted = Book.random(policy, 10_000, seed=0)     # the same traders under the new rules
    res = cascade(adapted, policy, crisis)
    if res.socialized_loss <= 8e6:
        smallest_k = k
        break
    previous = (k, res.socialized_loss)

kept = (np.abs(adapted.perps) @ policy.prices).sum() / today_notional
print(f"smallest k = {smallest_k:.2f}")
for asset, x in zip(venue.assets[:3], 1 / policy.initial_margin[:3]):
    print(f"k = {smallest_k:.2f}: max leverage on {asset} = {x:.1f}x")
print(f"k = {smallest_k:.2f}: fund needed = {res.socialized_loss / 1e6:.2f} M USD")
print(f"k = {smallest_k:.2f}: notional kept = {100 * kept:.1f} %")
print(f"k = {previous[0]:.2f} (one step less): fund needed = {previous[1] / 1e6:.2f} M USD")
