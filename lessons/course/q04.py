"""Lesson 04 · Liquidation mechanics: the self-checks (asked by ``ask(...)`` cells)."""
from widgets.engine import liquidate, margin_report

from ._fmt import num, scalar, usd
from .questions import register

question = register("04")


def _units(u) -> str:
    u = abs(float(u))
    return f"{u:,.0f}" if u >= 100 else f"{u:g}"


@question
def half_close(acct, market):
    """Health factor after one call with close_factor=0.5 (penalty paid out of the sale)."""
    call = lambda: liquidate(acct, market, close_factor=0.5)
    hf = lambda: float(margin_report(call().book, market).health_factor[0])
    penalty, debt_left = usd(call().total_penalty), -float(call().book.cash[0])
    repaid = usd(-scalar(acct.cash) - debt_left)

    def explanation():
        c = call()
        debt = -float(c.book.cash[0])
        return (f"Sale 5 × 2,000 USD = 10,000 USD; penalty {usd(c.total_penalty)}; "
                f"debt 17,000 − "
                f"{num(17_000 - debt, 0)} = {usd(debt)}; health factor = 5 × 2,000 × 0.825 / "
                f"{num(debt, 0)} = {num(hf())}.")
    return dict(
        question="One call with close_factor=0.5 sells 5 of the 10 ETH, pays 5 % of the sale as "
                 "penalty and repays debt with the rest. What is the health factor afterwards?",
        answer=hf,
        hints={"high": f"The penalty ({penalty}) is paid out of the sale, so less than 10,000 USD "
                       "of debt is repaid.",
               "low": f"The sale repays {repaid} of the 17,000 USD debt: the remaining debt is "
                      f"{usd(debt_left)}."},
        explanation=explanation,
        expected=1.10)


HALF, NOTHING, ALL = "half of it is closed", "nothing: only ETH is sold", "all of it is closed"


@question
def pool_close(owner, crash):
    """In cross margin the close factor applies to every position of the failing pool."""
    sold = lambda: liquidate(owner, crash, close_factor=0.5).units_sold
    return dict(
        question="One liquidate call with close_factor=0.5 at these prices. What happens to the "
                 "0.1 BTC long perp, whose price has not moved?",
        choices=[HALF, NOTHING, ALL],
        answer=lambda: HALF if round(float(sold()[0]), 6) == 0.05 else NOTHING,
        feedback={NOTHING: "That is how an isolated bucket behaves. In cross margin the pool "
                           "fails as a whole, and the close factor applies to every position in "
                           "it.",
                  ALL: "A close factor of 0.5 closes half of each position; only a pool whose "
                       "equity is gone is closed entirely."},
        explanation=lambda: (
            "The engine closes 50 % of every position in the failing pool: "
            + ", ".join(f"{_units(u)} {a} {'sold' if u > 0 else 'bought back'}"
                        for a, u in zip(crash.assets, sold()) if abs(float(u)) > 1e-12) + "."),
        expected=HALF)


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
    """Above the LTV frontier 1 - penalty, a partial liquidation makes LTV worse."""
    after = lambda: liquidate(pair, market, close_factor=0.5).book
    ltv = lambda book: -book.cash / (book.holdings[:, 0] * float(market.prices[0]))
    first = liquidate(pair, market, close_factor=0.5)
    removed = usd((pair.holdings[1, 0] - first.book.holdings[1, 0]) * float(market.prices[0]))
    repaid = usd(first.book.cash[1] - pair.cash[1])
    return dict(
        question="One liquidate call, close_factor=0.5, penalty 5 %. Afterwards, B's LTV is:",
        choices=[HIGHER, LOWER, UNCHANGED],
        answer=lambda: (HIGHER if margin_report(after(), market).health_factor[1]
                        < margin_report(pair, market).health_factor[1] else LOWER),
        feedback={LOWER: "It would be for A (LTV 0.90 < 0.95). B is above the frontier "
                         f"1 − 5 % = 0.95: the sale removes {removed} of collateral but repays "
                         f"only {repaid} of debt.",
                  UNCHANGED: "Only an account exactly at the frontier (LTV 0.95) keeps its LTV."},
        explanation=lambda: (
            f"B: collateral {num(after().holdings[1, 0] * float(market.prices[0]), 0)}, debt "
            f"{num(-after().cash[1], 0)}, LTV {num(ltv(after())[1])} = 2 × 0.96 − 0.95. "
            f"A: debt {num(-after().cash[0], 0)}, LTV {num(ltv(after())[0])}."),
        expected=HIGHER)
