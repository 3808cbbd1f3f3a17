"""Lesson 5 exercise: the smallest depth at which the three-account cascade stops after A.

The small venue closes a failing account in full (LiquidationRules.full()), as in the lesson.
Prints each answer as a labelled line ``label = number unit``; ``tests/test_solutions.py`` checks
every one against the numbers in the lesson's Solution block.
Run from the repository root: python lessons/solutions/05_cascading_liquidation.py
"""
from widgets.engine import Account, Book, LiquidationRules, Market, cascade, margin_report

small = Market(["X"], [100.0], asset_weight=0.8, liquidation_penalty=0.05, depth=2_000.0,
               liquidation_rules=LiquidationRules.full())
three = Book.from_accounts([Account([1.0], cash=-debt) for debt in (77.0, 74.0, 60.0)])
depths = range(2_000, 5_001, 100)

smallest = next(d for d in depths
                if cascade(three, small.replace(depth=d), shock=-0.05).n_liquidated == 1)
print(f"smallest depth that stops the cascade after A = {smallest:,} USD")
# By hand: B survives while 0.8 * 95 * (1 - 100 / D) >= 74, i.e. D >= 100 * 76 / 2 = 3,800.
for d in (smallest, smallest - 100):
    res = cascade(three, small.replace(depth=d), shock=-0.05)
    print(f"depth {d:,} USD ({res.n_liquidated} liquidated): final price = "
          f"{res.final_prices[0]:.2f} USD")
    if d == smallest:
        b = margin_report(three.account(1), small, prices=res.final_prices)
        print(f"depth {d:,} USD: B's health at the final price = {b.health:.2f} USD")
