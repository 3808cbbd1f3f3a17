"""Lesson 02 · Collateral, haircuts and debt: the self-checks (asked by ``ask(...)`` cells)."""
from widgets.engine import margin_report

from ._fmt import num, scalar, usd
from .questions import register

question = register("02")


@question
def health_fall(spot, market):
    """How much a 20 % BTC fall takes off the spot account's health (the haircut cushions it)."""
    fall = lambda: scalar(margin_report(spot, market).health
                          - margin_report(spot, market.shocked({"BTC": -0.20})).health)
    weight = lambda: float(market.asset_weight[market.index("BTC")])
    return dict(
        question="BTC falls 20 % (from 100,000 USD to 80,000 USD); nothing else moves. By how many "
                 "dollars does this account's health fall?",
        answer=fall, unit="USD",
        hints={"high": "10,000 USD is the fall in market value. How much of the BTC did the venue "
                       "count in the first place?",
               "low": "Only the BTC moved; its 0.5 units lost 10,000 USD of market value."},
        explanation=lambda: (
            f"The venue counted {weight() * 100:.0f} % of the BTC, so it loses "
            f"{weight() * 100:.0f} % of the "
            f"fall: 0.5 × 20,000 USD × {weight():g} = {usd(fall())}. A haircut cushions a price "
            "fall in the same proportion as it reduces borrowing power."),
        expected=9_000.0)


@question
def short_health(short, market):
    """Health of a USDC deposit with 10 ETH borrowed (debt weighted 1.1)."""
    r = lambda: margin_report(short, market)
    return dict(
        question="What is this account's health, in dollars?",
        answer=lambda: r().health, unit="USD",
        hints={"high": "10,000 USD counts the ETH debt at its market value. The venue weights debt "
                       "by 1.1.",
               "low": "The USDC counts at weight 1 (no haircut on a stablecoin)."},
        explanation=lambda: (
            f"Weighted collateral 50,000 × 1.0 = {usd(r().weighted_collateral)}; weighted debt "
            f"10 × 4,000 USD × 1.1 = {usd(r().weighted_liabilities)}; health = "
            f"{num(r().weighted_collateral, 0)} − {num(r().weighted_liabilities, 0)} = "
            f"{usd(r().health)}."),
        expected=6_000.0)


MANGO_SAFE = "safe: maintenance health is still positive"
MANGO_LIQ = "liquidatable: maintenance health is below 0"
MANGO_IM = "safe: 6 % is less than the 10 % initial margin"


@question
def mango_state(perp, mango):
    """Mango-style perp at 10x after a 6 % fall: maintenance health decides."""
    at = lambda: margin_report(perp, mango, prices=[9_400.0])
    buffer = usd(margin_report(perp, mango).health)              # above maintenance at entry
    loss = usd(scalar(margin_report(perp, mango).perp_pnl - at().perp_pnl))
    relief = usd(scalar(margin_report(perp, mango).maintenance_requirement
                        - at().maintenance_requirement))
    return dict(
        question="The BTC mark falls 6 %, to 9,400 USD. What is the account's state?",
        choices=[MANGO_SAFE, MANGO_LIQ, MANGO_IM],
        answer=lambda: MANGO_LIQ if bool(scalar(at().liquidatable)) else MANGO_SAFE,
        feedback={
            MANGO_SAFE: f"The 10 BTC lose {loss} but the buffer above maintenance is only "
                        f"{buffer}; the requirement falls by just 5 % × {loss} = {relief}, which "
                        "is not enough.",
            MANGO_IM: "The initial margin is what you *post*, not how far the price may fall. "
                      "Liquidation happens at the maintenance requirement, and this account "
                      "opened with only 5 % of notional above it."},
        explanation=lambda: (
            f"Health at 9,400 USD = 10,000 + 10 × 9,400 × 0.95 − 100,000 = {usd(at().health)}. "
            "The liquidation price solves 9.5 × P = 90,000: P = 9,473.68 USD, a 5.3 % fall."),
        expected=MANGO_LIQ)


INIT_REFUSED = "Not liquidated, but the venue refuses this borrow (and any withdrawal)"
INIT_LIQ = "Liquidatable: the debt is worth more than the venue counts the BTC"
INIT_FINE = "Fine: 100,000 USD of BTC easily covers 85,000 USD of debt"


@question
def init_vs_maintenance(btc_loan, market):
    """1 BTC against 85,000 USDC on Mango's weights: init health < 0 <= maintenance health."""
    r = lambda: margin_report(btc_loan, market)
    i = market.index("BTC")
    iw, mw = float(market.init_asset_weight[i]), float(market.asset_weight[i])

    def answer():
        rep = r()
        if bool(scalar(rep.liquidatable)):
            return INIT_LIQ
        return INIT_REFUSED if scalar(rep.initial_health) < 0 else INIT_FINE
    return dict(
        question="1 BTC (100,000 USD) is deposited and 85,000 USDC borrowed against it. On the "
                 "example market (Mango's weights), what does the venue do?",
        choices=[INIT_FINE, INIT_REFUSED, INIT_LIQ],
        answer=answer,
        feedback={
            INIT_FINE: f"The venue never counts the BTC at 100 %. For a new borrow it uses the "
                       f"init weight {iw:g}: {num(iw * 100_000, 0)} USD of borrowing power, less "
                       "than the 85,000 USD owed.",
            INIT_LIQ: f"Liquidation uses the maintenance weight {mw:g}, not the init weight "
                      f"{iw:g}: {num(mw * 100_000, 0)} USD still covers the 85,000 USD debt."},
        explanation=lambda: (
            f"Maintenance health = {mw:g} x 100,000 - 85,000 = {usd(r().health)}: not "
            f"liquidatable. Init health = {iw:g} x 100,000 - 85,000 = "
            f"{usd(r().initial_health)}: below 0, so the venue refuses the borrow, any further "
            "borrowing and any withdrawal. Between the two lines the account is safe but "
            "frozen."),
        expected=INIT_REFUSED)


@question
def ratio_to_health_factor(long, binance):
    """Binance's margin ratio and the health factor are reciprocals."""
    r = lambda: margin_report(long, binance, prices=[25_500.0])
    return dict(
        question="At BTC 25,500 USD (−49 %) this account's margin ratio is 20.4 %. What is its "
                 "health factor?",
        answer=lambda: r().health_factor,
        hints={"high": "The two ratios are reciprocals of one another.",
               "low": "A margin ratio well below 100 % means a health factor well above 1."},
        explanation=lambda: (
            f"Health factor = available / requirement = 1 / margin ratio = 1 / "
            f"{num(r().margin_ratio, 3)} = {num(r().health_factor)}. It sounds very safe, yet "
            "BTC is only 1.6 % above the liquidation price 25,100.40 USD. Ratios say how much "
            "bigger one number is than the other, not how far the price can move."),
        expected=4.902)
