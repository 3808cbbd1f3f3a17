"""Lesson 04 · Liquidation mechanics: the self-checks (asked by ``ask(...)`` cells)."""
from widgets.engine import liquidate, margin_report

from ._fmt import num, pct, scalar, usd
from .questions import register

question = register("04")


def _units(u) -> str:
    u = abs(float(u))
    return f"{u:,.0f}" if u >= 100 else f"{u:.4g}"


@question
def restore_repay(acct, market):
    """Debt repaid by the default (restore-health) liquidation of the 10 ETH / 17,000 USDC loan."""
    call = lambda: liquidate(acct, market)
    debt = -scalar(acct.cash)
    price, w, p = float(market.prices[0]), float(market.asset_weight[0]), \
        float(market.liquidation_penalty[0])
    gain = 1 - w * (1 + p)                         # health gained per USD of debt repaid
    health = scalar(margin_report(acct, market).health)
    repaid = lambda: debt + scalar(call().book.cash)

    def explanation():
        c = call()
        left = -scalar(c.book.cash)
        return (f"Each USD repaid costs {num(1 + p)} USD of ETH, which counted {num(w * (1 + p), 5)} "
                f"USD of health: health rises by {num(gain, 5)} per USD repaid. Health "
                f"{usd(health)} + {num(gain, 5)} × R = 1 % × (17,000 − R) gives R = "
                f"{usd(repaid(), 2)}: {num(repaid() * (1 + p) / price, 4)} ETH sold, penalty "
                f"{usd(c.total_penalty, 2)}, debt left {usd(left, 2)}, health factor "
                f"{num(margin_report(c.book, market).health_factor[0], 4)}.")
    return dict(
        question="The default rule closes just enough to bring health back to 1 % of the debt "
                 "left open. Every USD of debt repaid costs 1.05 USD of ETH (the 5 % penalty). "
                 "How much debt, in USD, does the liquidation repay?",
        answer=repaid, unit="USD", tolerance=0.02,
        hints={"high": "Not all of it: the account only needs to get back above the line. "
                       f"Health is {usd(health)}.",
               "low": f"One USD repaid improves health by only 1 − {w} × {1 + p} = "
                      f"{num(gain, 5)} USD, because the ETH sold counted for health too; and "
                      "the target is 1 % of the debt left, not 0."},
        explanation=explanation,
        expected=4_660.87)


SAME, NOTHING, ALL = ("the same share as every other position is closed",
                      "nothing: only ETH is sold", "all of it is closed")


@question
def pool_close(owner, crash):
    """In cross margin the pool fails as a whole: every position is closed by the same share."""
    call = lambda: liquidate(owner, crash)
    share = lambda: float(call().units_sold[0]) / float(owner.perps[0])

    def answer():
        s = share()
        return ALL if s >= 1 - 1e-9 else SAME if s > 1e-9 else NOTHING
    return dict(
        question="One liquidate call with the default (restore-health) rule at these prices. "
                 "What happens to the 0.1 BTC long perp, whose price has not moved?",
        choices=[SAME, NOTHING, ALL],
        answer=answer,
        feedback={NOTHING: "That is how an isolated bucket behaves. In cross margin the pool "
                           "fails as a whole, and every position in it is at stake.",
                  ALL: "Only a pool whose health cannot be restored (its equity gone) is closed "
                       "entirely; this one still has equity."},
        explanation=lambda: (
            f"The engine closes {pct(share())} of every position in the failing pool: "
            + ", ".join(f"{_units(u)} {a} {'sold' if u > 0 else 'bought back'}"
                        for a, u in zip(crash.assets, call().units_sold)
                        if abs(float(u)) > 1e-12) + "."),
        expected=SAME)


@question
def gap_socialized(acct, market):
    """Loss left after the insurance fund in a price gap."""
    gap = lambda: liquidate(acct, market, prices=[1_500.0], insurance_fund=1_500.0)
    shortfall = usd(-scalar(margin_report(acct, market, prices=[1_500.0]).equity))

    def explanation():
        g = gap()
        return (f"Equity {usd(g.equity_before[0])}; penalty {usd(g.total_penalty)} (capped at "
                f"equity); the fund pays {usd(g.fund_payout)} and is empty; the remaining "
                f"{usd(g.socialized_loss)} is socialized.")
    return dict(
        question="ETH gaps to 1,500 USD with the insurance fund at 1,500 USD. How much loss is "
                 "socialized?",
        answer=lambda: gap().socialized_loss, unit="USD", abs_tolerance=1.0,
        hints={"high": "The fund pays first, and it holds 1,500 USD.",
               "low": f"Bad debt is 17,000 − 15,000 = {shortfall}, and no penalty can be "
                      "collected from an account with negative equity."},
        explanation=explanation,
        expected=500.0)


HIGHER, LOWER, UNCHANGED = "higher than 0.96", "lower than 0.96", "unchanged"


@question
def spiral_ltv(pair, market):
    """Above the LTV frontier 1 / (1 + penalty), a partial liquidation makes LTV worse."""
    after = lambda: liquidate(pair, market, close_factor=0.5).book
    ltv = lambda book: -book.cash / (book.holdings[:, 0] * float(market.prices[0]))
    p = float(market.liquidation_penalty[0])
    first = liquidate(pair, market, close_factor=0.5)
    removed = usd((pair.holdings[1, 0] - first.book.holdings[1, 0]) * float(market.prices[0]))
    repaid = usd(first.book.cash[1] - pair.cash[1])
    return dict(
        question="One liquidate call, close_factor=0.5, penalty 5 % of the debt closed. "
                 "Afterwards, B's LTV is:",
        choices=[HIGHER, LOWER, UNCHANGED],
        answer=lambda: (HIGHER if ltv(after())[1] > ltv(pair)[1] + 1e-12
                        else LOWER if ltv(after())[1] < ltv(pair)[1] - 1e-12 else UNCHANGED),
        feedback={LOWER: f"It would be for A (LTV 0.90). B is above the frontier 1 / {1 + p:g} "
                         f"= {num(1 / (1 + p), 3)}: the sale removes {removed} of collateral but "
                         f"repays only {repaid} of debt.",
                  UNCHANGED: f"Only an account exactly at the frontier (LTV {num(1 / (1 + p), 3)})"
                             " keeps its LTV."},
        explanation=lambda: (
            f"B: collateral {num(after().holdings[1, 0] * float(market.prices[0]), 0)}, debt "
            f"{num(-after().cash[1], 0)}, LTV {num(ltv(after())[1], 3)} = "
            f"{num(2 * (1 + p / 2), 2)} × 0.96 − 1. "
            f"A: debt {num(-after().cash[0], 0)}, LTV {num(ltv(after())[0], 3)}."),
        expected=HIGHER)
