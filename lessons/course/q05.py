"""Lesson 05 · Cascading liquidation: the self-checks (asked by ``ask(...)`` cells)."""
import numpy as np

from widgets import CascadeLab
from widgets.engine import cascade

from ._fmt import num, usd
from .questions import register

question = register("05")


@question
def final_price(three, small):
    """Final price of X after the three-account cascade (linear impact from the shocked price)."""
    run = lambda: cascade(three, small, shock=-0.05)

    def explanation():
        r = run()
        p = r.prices_by_round[:, 0]
        steps = "; ".join(f"round {k}: {num(p[k])}" for k in range(1, len(p)))
        return (f"The shock takes X to {num(p[0])}. Each failing account sells its 1 unit, and "
                f"impact is linear in the units sold so far, from the shocked price: {steps}. "
                f"{r.n_liquidated} of 3 accounts fail; C holds (0.8 x {num(p[-1])} = "
                f"{num(0.8 * p[-1])} >= 60). A -5 % shock became a "
                f"{(p[-1] / 100 - 1) * 100:.1f} % fall.")
    return dict(
        question="After the -5 % shock and every round of forced selling, what is X's final "
                 "price?",
        answer=lambda: float(run().final_prices[0]),
        tolerance=0.001, unit="USD", expected=85.50,
        hints={"high": "Impact is linear in the cumulative units sold, measured from the shocked "
                       "price 95 USD: after two units, 95 x (1 - 2 x 0.05). Multiplying 90.25 by "
                       "0.95 again (85.74) compounds it. Also check whether B fails after A's "
                       "sale.",
               "low": "Does C fail? Compare 0.8 x price with C's 60 USD debt."},
        explanation=explanation)


@question
def one_percent_sale(market):
    """Dollars of SOL that move SOL's price 1 % at the lab's default depth (linear impact)."""
    multiple = lambda: CascadeLab.class_traits()["depth"].default_value
    sol = lambda: float(market.depth[market.index("SOL")])
    btc = lambda: float(market.depth[market.index("BTC")])
    return dict(
        question="At the default depth (30x), how many dollars of SOL must liquidations sell to "
                 "move SOL's price by 1 % under the linear model?",
        answer=lambda: 0.01 * multiple() * sol(), unit="USD", expected=9_000_000,
        hints={"high": "1 % of depth moves the price 1 %, and SOL's venue depth is 30 M USD, "
                       "times 30.",
               "low": "Did you forget the 30x multiplier? At 1x it would be 300,000 USD."},
        explanation=lambda: (
            f"Depth at {multiple():g}x: {multiple():g} x {usd(sol())} = "
            f"{usd(multiple() * sol())}. Under the linear model a sale of x % of depth moves "
            f"the price by x %, so 1 % takes {usd(0.01 * multiple() * sol())} of SOL. For BTC it "
            f"takes {usd(0.01 * multiple() * btc())}."))


FALLS, SAME, RISES = "It falls", "It stays the same", "It rises"


@question
def deeper_market(lab, at_depth, crash):
    """Ten times the depth: fewer accounts liquidated (the first round stays)."""
    n = lambda d: cascade(lab.book, at_depth(d), crash, max_rounds=30).n_liquidated
    first = lambda: int((cascade(lab.book, at_depth(30), crash, max_rounds=30).first_round
                         == 1).sum())
    return dict(
        question="The same -5 % shock on the same 10,000 accounts, but the market is 10 times "
                 "deeper (300x instead of 30x). How does the number of accounts liquidated "
                 "change?",
        choices=[FALLS, SAME, RISES],
        answer=lambda: [FALLS, SAME, RISES][1 + int(np.sign(n(300) - n(30)))],
        expected=FALLS,
        feedback={SAME: f"The shock's direct victims stay the same ({first():,}), but the later "
                        "rounds depend on how far each sale moves the price.",
                  RISES: "A deeper market absorbs the same sales with a smaller price move. For "
                         "a book that only sells, a deeper market never liquidates more "
                         "accounts."},
        explanation=lambda: (
            f"Deeper markets shrink every round's impact, so fewer accounts are pushed over: "
            f"{n(30):,} at 30x, {n(300):,} at 300x. The shock alone still takes its "
            f"{first():,} accounts: depth cannot undo the first round."))


LOWER, UNCHANGED, HIGHER = "Lower than before", "Unchanged", "Higher than before"


@question
def contagion(lab, at_depth, btc_only):
    """A BTC-only shock moves SOL through the portfolios that hold both."""
    change = lambda: float(cascade(lab.book, at_depth(30), btc_only, max_rounds=30)
                           .price_change[2])
    return dict(
        question="BTC alone falls 10 %; ETH and SOL are not shocked. After the cascade (30x "
                 "depth), where is SOL's price?",
        choices=[LOWER, UNCHANGED, HIGHER],
        answer=lambda: [LOWER, UNCHANGED, HIGHER][1 + int(np.sign(round(change(), 4)))],
        expected=LOWER,
        feedback={UNCHANGED: "Nothing hit SOL directly, but a cross account liquidated for its "
                             "BTC losses is closed as a whole pool, including its SOL longs.",
                  HIGHER: "Some liquidated accounts were short SOL and buy it back, but the "
                          "book is long-biased, so net liquidation flow sells SOL."},
        explanation=lambda: (
            f"SOL ends {change() * 100:+.2f} % without any shock of its own. Forced sales "
            "spread a shock across assets that share holders: the overlapping-portfolio channel "
            "of Caccioli et al. (2014) and Cont & Schaanning (2017)."))
