"""Lesson 00 · Start here: the self-checks (asked by ``ask(...)`` cells in the notebook)."""
from widgets.engine import margin_report

from ._fmt import num, pct, scalar, usd
from .questions import register

question = register("00")


@question
def hf_after_fall(account, market):
    """Health factor of 10 ETH against 17,000 USDC of debt after ETH -25 %."""
    def after():
        return margin_report(account, market, prices=market.shocked({"ETH": -0.25}).prices)

    def explanation():
        r = after()
        return (f"10 ETH x 3,000 USD x 0.9 = {usd(r.weighted_collateral)} of weighted collateral; "
                f"{num(r.weighted_collateral, 0)} / {num(r.weighted_liabilities, 0)} = "
                f"{num(r.health_factor)}. Still safe: above 1.")
    return dict(
        question="ETH falls 25 %, from 4,000 USD to 3,000 USD; the debt stays 17,000 USDC. "
                 "What is the account's health factor now?",
        answer=lambda: after().health_factor,
        nudge="the health factor divides weighted collateral by weighted debt. Which of the "
              "two did the fall change?",
        hints={"high": "Did you apply the 90 % weight to the ETH?",
               "low": "The weight applies to the collateral only; the debt counts at 100 %."},
        explanation=explanation,
        expected=1.5882)


SAFE = "Safe: above 100 % means more collateral than needed, like a health factor above 1"
LIQUIDATABLE = "Liquidatable: 100 % or more is past the liquidation line"


@question
def margin_ratio_reading(crash):
    """What a margin ratio of about 105 % means (Binance's side of the line)."""
    def explanation():
        return (f"Weighted collateral 10 x 1,800 USD x 0.9 = {usd(crash.weighted_collateral)} < "
                f"{usd(crash.weighted_liabilities)} of debt. Margin ratio "
                f"{num(crash.weighted_liabilities, 0)} / {num(crash.weighted_collateral, 0)} = "
                f"{pct(crash.margin_ratio)}; health factor {num(crash.weighted_collateral, 0)} / "
                f"{num(crash.weighted_liabilities, 0)} = {num(crash.health_factor)}.")
    return dict(
        question=f"After the 55 % fall, the engine's margin ratio for this account is about "
                 f"{pct(scalar(crash.margin_ratio), 0)}. What does that tell you?",
        answer=lambda: LIQUIDATABLE if bool(scalar(crash.liquidatable)) else SAFE,
        choices=[SAFE, LIQUIDATABLE],
        feedback={SAFE: "That is how a health factor reads. The margin ratio is the other way up, "
                        "requirement / what the account has (Binance defines it for futures: "
                        "maintenance margin / margin balance). For this spot loan the engine's "
                        "ratio is weighted debt / weighted collateral: above 100 %, the debt is "
                        "larger than the collateral the venue counts. (Plain debt / collateral "
                        "of a loan is its LTV.)"},
        explanation=explanation,
        expected=LIQUIDATABLE)
