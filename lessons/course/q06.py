"""Lesson 06 · Mutualization of risk: the self-checks (asked by ``ask(...)`` cells)."""
import numpy as np

from widgets.engine import fund_coverage, liquidate, margin_report

from ._fmt import musd, scalar, usd
from .questions import register

question = register("06")


@question
def fund_payout(trader_a, abc):
    """What the insurance fund pays when A is sold below its bankruptcy price."""
    res = lambda: liquidate(trader_a, abc, prices=[0.77], insurance_fund=1_000.0)
    size, entry = scalar(trader_a.perps), scalar(trader_a.entry_prices)
    bankrupt = usd(entry - scalar(trader_a.cash) / size, 2)     # where A's equity is 0

    def explanation():
        r = res()
        return (f"At 0.77 USD the long has lost 500 × 0.23 = 115 USD against a 100 USD "
                f"deposit: equity "
                f"{usd(r.equity_before[0], 2)}. That is the bad debt, and the fund pays it: "
                f"1,000 USD → {usd(r.insurance_fund)}.")
    return dict(
        question="A's 500 ABC are sold at 0.77 USD. The insurance fund holds 1,000 USD. How "
                 "much does the fund pay?",
        answer=lambda: res().fund_payout, unit="USD", abs_tolerance=0.01,
        hints={"high": "A's own 100 USD deposit is used first; the fund pays only what is still "
                       "missing.",
               "low": f"0.77 USD is below the {bankrupt} bankruptcy price: A's equity is "
                      "negative, so there is a shortfall to pay (and no equity left for a "
                      "penalty)."},
        explanation=explanation,
        expected=15.0)


@question
def adl_keeps(trader_a, abc, bankruptcy):
    """What a deleveraged winner keeps: its PnL at the loser's bankruptcy price."""
    kept = lambda: scalar(margin_report(trader_a, abc, prices=[bankruptcy]).perp_pnl)
    paper = lambda: scalar(margin_report(trader_a, abc, prices=[2.0]).perp_pnl)
    return dict(
        question="A's long is closed against B's short at 1.20 USD instead of the 2 USD mark. "
                 "Of A's 500 USD paper profit, how much does A keep?",
        answer=kept, unit="USD", abs_tolerance=0.01,
        hints={"high": "A's position is closed at B's bankruptcy price, 1.20 USD, not at the 2 USD "
                       "mark.",
               "low": "A still gains 0.20 USD on each of its 500 ABC."},
        explanation=lambda: (
            f"500 × (1.20 − 1) = {usd(kept())}. A gives up the other "
            f"{usd(paper() - kept())} of paper profit: exactly B's bad debt. B ends at 0 USD, and "
            "nobody else loses anything."),
        expected=100.0)


@question
def adl_first(names, adl_rank, leverage, pnl_pct):
    """Which short BitMEX's ranking (PnL % x effective leverage) deleverages first."""
    def explanation():
        parts = [f"{n}: PnL {100 * float(p):.1f} % × leverage {float(lv):.2f}x = "
                 f"rank {float(r):.3f}"
                 for n, p, lv, r in zip(names, pnl_pct, leverage, adl_rank)]
        return ("; ".join(parts) + ". Profit raises equity and so lowers effective leverage, "
                "but the hedge's PnL % more than makes up for it.")
    return dict(
        question="A bankrupt long must be offset by one of these shorts. Which does BitMEX's "
                 "formula deleverage first?",
        choices=list(names),
        answer=lambda: names[int(np.argmax(adl_rank))],
        feedback={
            names[2]: "Leverage is multiplied by PnL %, and this short has made only 1 USD on "
                      "101 USD (1 %): a small rank.",
            names[1]: f"Its 2× leverage and {100 * float(pnl_pct[1]):.1f} % profit give "
                      f"{float(adl_rank[1]):.3f}; look at the hedge's profit: 80 USD on 180 USD."},
        explanation=explanation,
        expected="0.3x hedge, short since $180")


@question
def penalty_share(penalty_run, highest):
    """Share of a gap's bad debt that the highest consistent penalty rate pays for."""
    def parts():
        run = penalty_run(highest)
        return float(fund_coverage(run, 0.0).penalties), float(run.bad_debt)
    share = lambda: 100 * parts()[0] / parts()[1]
    return dict(
        question="The venue raises every perp's liquidation penalty to the highest rate its "
                 "consistency check allows, the maintenance margin (BTC 1.25 %, ETH 2 %, "
                 "SOL 2.5 %), and the same cascade happens. What share of the cascade's bad "
                 "debt do the penalties collected pay for, in percent?",
        answer=share, unit="%", tolerance=0.05,
        hints={"high": "A penalty is paid only out of the equity an account still has when it "
                       "is liquidated, and it is a small percentage of the notional closed. How "
                       "much do accounts have left after a gap?",
               "low": "Accounts closed in time do pay: in rounds 2 to 4 many still have equity, "
                      "and each pays up to 2.5 % of what it closes."},
        explanation=lambda: (
            f"About {share():.0f} %: {musd(parts()[0], 2)} of penalties against "
            f"{musd(parts()[1])} of bad debt. Most accounts liquidated in round 1 of a gap have "
            "little or no equity left, so the penalty is capped by what is there, and the rate "
            "itself cannot go above the maintenance margin: a larger penalty would make every "
            "liquidation lower the account's health (lesson 4). The bad debt barely changes."),
        expected=9.1)
