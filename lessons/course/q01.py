"""Lesson 01 · Margin pooling: the self-checks (asked by ``ask(...)`` cells in the notebook)."""
from widgets.engine import (capital_required, compare_pooling, isolated_twin, liquidation_price,
                            margin_report)

from ._fmt import num, scalar, usd
from .questions import register

question = register("01")

NEITHER, ISOLATED, CROSS, BOTH = ("Neither", "Only the isolated account (its SOL bucket)",
                                  "Only the cross account", "Both")
OUTCOMES = {(False, False): NEITHER, (False, True): ISOLATED, (True, False): CROSS,
            (True, True): BOTH}


@question
def sol_rally_outcome(account, market):
    """Which of the cross account and its isolated twin a 15 % SOL rally liquidates."""
    prices = market.shocked({"SOL": 0.15}).prices
    rally = lambda: compare_pooling(account, market, prices=prices)
    twin = isolated_twin(account, market)
    sol = market.index("SOL")
    posted = usd(twin.isolated_margin[sol])                      # what the SOL bucket holds
    cross = margin_report(account, market, prices=prices)
    mm, health = usd(cross.maintenance_requirement), usd(cross.health)

    def explanation():
        r = rally()
        return (f"Isolated SOL bucket: its posted margin minus the 15,000 USD loss leaves it below "
                f"its maintenance margin: liquidated, and what was posted to it is lost "
                f"({usd(r.equity_start[1] - r.equity_after[1])}). Cross: the whole "
                f"{usd(r.equity_start[0])} backs the short and the account stays safe.")
    return dict(
        question="SOL rallies 15 %, from 200 USD to 230 USD; BTC and ETH do not move. The "
                 "short loses 500 x 30 USD = 15,000 USD. Which account is liquidated?",
        answer=lambda: OUTCOMES[tuple(bool(x) for x in rally().liquidatable)],
        choices=list(OUTCOMES.values()),
        feedback={NEITHER: f"The SOL bucket holds only {posted}, less than the 15,000 USD loss.",
                  CROSS: f"The cross pool has 30,000 USD behind the short: 30,000 - 15,000 - "
                         f"{num(cross.maintenance_requirement, 0)} of maintenance = {health} > 0.",
                  BOTH: f"The cross pool absorbs the loss: 30,000 USD - 15,000 USD leaves more "
                        f"than "
                        f"the {mm} maintenance margin."},
        explanation=explanation,
        expected=ISOLATED)


@question
def isolated_crisis_loss(crisis):
    """What the isolated twin loses in the lab's crisis preset."""
    return dict(
        question="Crisis: BTC -21 %, ETH -28 %, SOL -35 % at once. How much of its 30,000 USD does "
                 "the ISOLATED account lose to liquidation?",
        answer=lambda: crisis.loss[1], unit="USD",
        hints={"high": "Look at the SOL bucket: a short gains when SOL falls, so that bucket "
                       "survives and keeps its margin.",
               "low": "A failing bucket loses everything posted to it. Which buckets fail?"},
        explanation=lambda: (
            "BTC loses 2 x 21,000 USD = 42,000 USD and ETH 50 x 1,120 USD = 56,000 USD: both "
            "buckets fail "
            f"and lose everything posted to them, {usd(crisis.loss[1])} in all. The SOL short "
            "gains 35,000 USD; its bucket survives, but that gain cannot reach the others."),
        expected=21_666.67)


@question
def capital_after_rally(account, market, sol_prices):
    """Whether isolated needs more capital than cross after a SOL rally (nothing gains)."""
    cap = lambda mode: capital_required(account, market, sol_prices, mode=mode)
    return dict(
        question="Long 2 BTC, long 50 ETH, short 500 SOL at today's prices: cross and isolated "
                 "both need 18,000 USD. Now SOL alone rallies 15 % (the short loses 15,000 USD). "
                 "Compared with cross, isolated needs...",
        answer=lambda: "More" if cap("isolated") > cap("cross") + 0.01 else "The same",
        choices=["More", "The same", "Less"],
        feedback={"More": "Pooling saves only when some position's GAIN exceeds its own "
                          "requirement. Here the only position with PnL is losing.",
                  "Less": "An isolated bucket can never use more than its own margin, so it "
                          "never needs less than the pool."},
        explanation=lambda: (
            f"Cross needs {usd(cap('cross'))} and isolated {usd(cap('isolated'))}: the initial "
            "margin plus the 15,000 USD loss. No position has a gain to share, so the pool has "
            "nothing extra."),
        expected="The same")


CLOSER, FURTHER, SAME = ("Closer: liquidated at a lower ETH price", "Further: a higher ETH price",
                         "Unchanged: STRK's price does not move")


@question
def strk_liquidation_price(with_strk, short_alone, dydx):
    """How adding a STRK long moves the ETH short's liquidation price in one cross pool."""
    lp = lambda acct: float(liquidation_price(acct, dydx, "ETH"))
    strk_mm = usd(scalar(margin_report(with_strk, dydx).maintenance_requirement
                         - margin_report(short_alone, dydx).maintenance_requirement))
    return dict(
        question="Add the long 1,000 STRK (its price never moves) to the cross account with the "
                 "1.5 ETH short. The ETH liquidation price moves...",
        answer=lambda: CLOSER if lp(with_strk) < lp(short_alone) else FURTHER,
        choices=[CLOSER, FURTHER, SAME],
        feedback={FURTHER: "A new position adds requirement, not collateral: its margin comes "
                           "out of the same 1,000 USD.",
                  SAME: f"STRK's PnL stays 0, but its maintenance margin ({strk_mm}) still "
                        "uses up part of the pool."},
        explanation=lambda: (
            f"The STRK long needs 10 % x 1,750 USD = {strk_mm} of maintenance margin from the same "
            f"pool, so the ETH short has {strk_mm} less room: {usd(lp(with_strk), 2)} instead of "
            f"{usd(lp(short_alone), 2)}."),
        expected=CLOSER)


BIG_FIRST, SMALL_FIRST, SAME_PRICE = (
    "The 300 BTC position: it is liquidated at a higher BTC price",
    "The 0.5 BTC position: it has less margin behind it",
    "Both at the same price: same leverage, same entry")


@question
def bracket_first_liquidated(at_10x, binance):
    """Same 10x leverage, sizes 0.5 and 300 BTC, Binance brackets: which is liquidated first."""
    lp = lambda q: float(liquidation_price(at_10x(q), binance, "BTC"))
    rate = lambda q: float(binance.maintenance_requirement([q * 50_000.0])[0] / (q * 50_000.0))

    def answer():
        small, big = lp(0.5), lp(300)
        return BIG_FIRST if big > small + 0.005 else (SMALL_FIRST if small > big + 0.005
                                                      else SAME_PRICE)
    return dict(
        question="Two traders open an isolated BTC long at 50,000 USD with 10x leverage (a tenth "
                 "of the notional posted): one buys 0.5 BTC, the other 300 BTC. On Binance's "
                 "brackets, as BTC falls, which is liquidated first?",
        choices=[SAME_PRICE, SMALL_FIRST, BIG_FIRST],
        answer=answer,
        feedback={
            SAME_PRICE: "With one margin rate for every size that would be right. Which bracket "
                        "is a 15,000,000 USD position in?",
            SMALL_FIRST: "Both posted a tenth of their notional, so each has the same 10 % "
                         "buffer. What differs is the share the venue keeps back as maintenance "
                         "margin."},
        explanation=lambda: (
            f"The 300 BTC position (15,000,000 USD) is in a higher bracket: it must keep "
            f"{rate(300) * 100:.2f} % of its notional as maintenance margin, the 0.5 BTC one "
            f"{rate(0.5) * 100:.2f} %. Its 10 % buffer runs out sooner: liquidated at "
            f"{usd(lp(300), 2)} against {usd(lp(0.5), 2)}."),
        expected=BIG_FIRST)
