"""Lesson 07 · Case studies: the self-checks (asked by ``ask(...)`` cells)."""
from widgets.engine import liquidate, margin_report

from ._fmt import musd, scalar, usd
from .questions import register

question = register("07")


@question
def maker_deficit(failing, maker):
    """Black Thursday: zero-bid auctions leave the vaults' whole debt as the system's deficit."""
    res = lambda: liquidate(failing, maker, prices=[0.01])
    worth = musd(float(failing.holdings.sum()) * 120.0, 2)     # the ETH at 120 USD

    def explanation():
        debt = -float(failing.cash.sum())
        owners = float(margin_report(failing, maker, prices=[120.0]).equity.sum())
        return (f"The deficit is the whole debt of the failing vaults, {debt / 1e6:,.2f} M DAI "
                f"(less {usd(debt - res().total_bad_debt)} for the ETH sold at 0.01 USD). The "
                f"owners lose their {musd(owners, 2)} of equity at 120 USD on top.")
    return dict(
        question="Every auction of these 41 vaults ends with a (nearly) zero bid. How large is "
                 "the system's deficit, in DAI, before its surplus buffer pays anything?",
        answer=lambda: res().total_bad_debt, unit="DAI",
        hints={"high": f"{worth} is what the ETH was worth. The system is owed only the "
                       "vaults' debt; the owners' equity above the debt is the owners' loss, "
                       "not the system's.",
               "low": "With zero bids nothing is recovered: none of the 41 vaults' debt is "
                      "repaid."},
        explanation=explanation,
        expected=6_524_675.0)


@question
def mango_borrow(wallet_b, peak):
    """Initial health at the manipulated peak: what wallet B could borrow and withdraw."""
    r = lambda: margin_report(wallet_b, peak)
    size = abs(scalar(wallet_b.perps))
    notional, pnl = musd(size * float(peak.prices[0]), 0), musd(r().perp_pnl, 0)

    def explanation():
        return (f"5 M USD deposit + {musd(r().perp_pnl)} PnL − 20 % × "
                f"{musd(size * float(peak.prices[0]))} = "
                f"{musd(r().initial_health)}. The health check would have let B take three "
                "times what it did, so the binding limit was elsewhere: what the lenders had "
                "deposited (our reading of the public accounts).")
    return dict(
        question="At the 0.91 USD peak, how much could wallet B borrow and withdraw before its "
                 "initial health reached zero?",
        answer=lambda: r().initial_health, unit="USD",
        hints={"high": "The whole PnL counts, but the venue still charges 20 % initial margin "
                       f"on the position's notional, now 483 M × 0.91 USD = {notional}.",
               "low": f"The {pnl} of unrealized PnL counts at full weight, exactly like cash."},
        explanation=explanation,
        expected=338_173_400.0)


FTX_CHOICES = ["Open the position and borrow against the profit, as on Mango",
               "Open the position, but borrow nothing against the profit",
               "Not even open it: 483 M MNGO would need the full 18.5 M USD up front"]


@question
def ftx_rule(wallet_b, ftx):
    """FTX's size-dependent initial margin (capped at 100 %) refuses the position at entry."""
    ih = lambda: scalar(margin_report(wallet_b, ftx).initial_health)
    return dict(
        question="Under FTX's rule (initial margin capped at 100 %), what could wallet B do "
                 "with its 5 M USD?",
        choices=FTX_CHOICES,
        answer=lambda: FTX_CHOICES[2] if ih() < 0 else FTX_CHOICES[1],
        feedback={FTX_CHOICES[0]: "With a 100 % initial margin the position's whole notional "
                                  "is required, so its profit never frees any borrowing power.",
                  FTX_CHOICES[1]: "Check the entry first: is 5 M USD enough to post 100 % of "
                                  "483 M × 0.0382 USD?"},
        explanation=lambda: (
            f"Initial health at entry = 5 M USD − 100 % × {musd(5e6 - ih(), 2)} = "
            f"{musd(ih(), 2)}: "
            "the order is refused. With IMF = 100 %, initial health is deposit − entry notional "
            "at every price, so a profit can never be borrowed against."),
        expected=FTX_CHOICES[2])


@question
def impact_share(oct10, shock, venue):
    """Share of SOL's final fall caused by the cascade's own forced selling."""
    share = lambda a: 100 * (1 - shock[a] / float(oct10.price_change[venue.index(a)]))
    final = lambda a: 100 * float(oct10.price_change[venue.index(a)])
    start = lambda a: f"{abs(100 * shock[a]):g}"
    return dict(
        question=f"SOL starts with a −{start('SOL')} % shock and ends the cascade near "
                 f"{final('SOL'):.0f} %. What share of SOL's final fall, in %, did the "
                 "liquidations' own forced selling cause?",
        answer=lambda: share("SOL"), unit="%", tolerance=0.02,
        hints={"high": f"The initial −{start('SOL')} % is part of the final fall; only the rest "
                       "comes from selling.",
               "low": f"Compare the −{start('SOL')} % shock with the {final('SOL'):.1f} % at "
                      "the end."},
        explanation=lambda: (
            f"1 − {start('SOL')} / {abs(final('SOL')):.1f} = {share('SOL'):.0f} %: almost half "
            "of SOL's fall is the cascade, not the news. BTC's book is deeper relative to what is "
            f"sold, so its share is smaller (1 − {start('BTC')} / {abs(final('BTC')):.1f} = "
            f"{share('BTC'):.0f} %)."),
        expected=46.0)
