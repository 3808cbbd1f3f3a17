"""Lesson 03 · Correlation effects: the self-checks (asked by ``ask(...)`` cells)."""
import numpy as np

from widgets.engine import (correlated_returns, explain_inconsistent, liquidation_probability,
                            margin_report, with_correlations)

from ._fmt import num, usd
from .questions import register

question = register("03")


CALM0 = {"BTC-ETH": 0.0, "BTC-SOL": 0.0, "ETH-SOL": 0.0}     # independent legs
ONE = {"BTC-ETH": 1.0, "BTC-SOL": 1.0, "ETH-SOL": 1.0}       # every pair moves as one


def _sd(market, account, correlations=None):
    """Formula standard deviation of a perp book's daily P&L: sqrt(x' Sigma x), x in dollars."""
    m = market if correlations is None else with_correlations(market, correlations)
    x = np.asarray(account.perps, dtype=float).reshape(-1) * m.prices * m.volatility
    return float(np.sqrt(x @ m.correlation @ x))


@question
def pnl_spread(diversified, market):
    """Standard deviation of the diversified book's daily P&L at calm correlations."""
    def explanation():
        x = (np.asarray(diversified.perps, dtype=float).reshape(-1) * market.prices
             * market.volatility)
        squares = float(x @ x)
        cross = float(x @ market.correlation @ x) - squares
        return (f"Cross terms: 2 x (1,500 x 2,000 x 0.80 + 1,500 x 2,500 x 0.70 + 2,000 x 2,500 "
                f"x 0.75) = {num(cross, 0)}. Add the squares {num(squares, 0)}: "
                f"sqrt({num(cross + squares, 0)}) = {usd(_sd(market, diversified))}. The check "
                "simulates 100,000 correlated days and measures the spread of the P&L.")
    return dict(
        question="Use the formula with the calm correlations (BTC-ETH 0.80, BTC-SOL 0.70, "
                 "ETH-SOL 0.75). What is the standard deviation of the diversified book's daily "
                 "P&L, in dollars?",
        answer=lambda: float((correlated_returns(market, 100_000, seed=1)
                              @ (diversified.perps * market.prices)).std()),
        tolerance=0.02, unit="USD", expected=5_482,
        hints={"low": "did you leave out the cross terms 2 x_i x_j sigma_i sigma_j rho_ij? "
                      f"Without them (rho = 0) you get "
                      f"{usd(_sd(market, diversified, CALM0))}.",
               "high": f"at rho = 1 the deviations add up to "
                       f"{usd(_sd(market, diversified, ONE))}; "
                       "the calm correlations are below 1."},
        explanation=explanation)


CHOICES = ["Cross rises, isolated rises", "Cross rises, isolated falls",
           "Cross falls, isolated falls", "Cross falls, isolated rises"]


@question
def crisis_direction(moves, pair, market, diversified):
    """How crisis correlation moves liquidation probability, cross vs isolated."""
    health = lambda: usd(margin_report(diversified, market).health)
    return dict(
        question="The crisis slider goes from 0 (calm) to 1 (every pair moves as one). What "
                 "happens to the diversified book's probability of liquidation in cross mode "
                 "and in isolated mode?",
        choices=CHOICES,
        answer=lambda: "Cross {}, isolated {}".format(*moves(pair, 0.0, 1.0)),
        expected="Cross rises, isolated falls",
        feedback={
            CHOICES[0]: "Cross does rise: the offsets inside the pool disappear. But the "
                        "isolated twin fails when ANY bucket fails. When the assets move as one, "
                        "bucket failures happen on the same days, so there are fewer distinct "
                        "failure days.",
            CHOICES[2]: "Higher correlation removes the offsets inside the pool: the cross "
                        f"pool's P&L spread grows from {usd(_sd(market, diversified))} to "
                        f"{usd(_sd(market, diversified, ONE))}"
                        f" against the same {health()} of health.",
            CHOICES[3]: "That is the hedged book's pattern (section 4). A long-only book has no "
                        "hedge for correlation to help."},
        explanation=lambda: (
            f"The cross pool fails on the days the SUM of the three P&Ls passes -{health()}"
            "; higher correlation makes big sums more likely. The isolated twin fails on the "
            "days ANY one leg passes its own bucket's limit; at correlation 1 those are the "
            "same days."))


@question
def broken_hedge(hedged, market):
    """A hedge whose correlation falls: cross liquidation probability rises."""
    p = lambda m: float(np.ravel(liquidation_probability(hedged, m, 10_000, seed=0))[0])
    weak = lambda: with_correlations(market, {"BTC-ETH": 0.3})
    spread = lambda rho: usd(_sd(market, hedged, {"BTC-ETH": rho}))
    return dict(
        question="Keep the crisis slider at 0 and lower the BTC-ETH correlation from 0.80 to "
                 "0.30 (the hedge 'breaks'). What happens to the hedged book's probability of "
                 "liquidation in cross mode?",
        choices=["Rises", "Falls", "Stays about the same"],
        answer=lambda: "Rises" if p(weak()) > p(market) else "Falls",
        expected="Rises",
        feedback={"Falls": "Lower correlation helps a long-only book. In a hedge the short leg "
                           "only offsets the long leg when the two move together.",
                  "Stays about the same": "Each leg's volatility is unchanged, but the P&L "
                                          f"spread of long BTC minus ETH grows from "
                                          f"{spread(0.8)} to {spread(0.3)}."},
        explanation=lambda: (
            "Spread of the hedged P&L: sqrt(3,000^2 + 4,000^2 - 2 x 3,000 x 4,000 x rho). At "
            f"rho 0.80 that is {spread(0.8)}; at 0.30 it is {spread(0.3)}, against "
            f"{usd(margin_report(hedged, market).health)} of health."))


YES = "Yes: each value is between -1 and 1"
NO = "No: the three together are impossible"


@question
def impossible_triple(triple):
    """Three pairwise correlations that no matrix can hold at once."""
    def explanation():
        w = np.array([1.0, -1.0, 1.0])
        return ("Hold +1 BTC, -1 ETH, +1 SOL (unit volatilities). Its variance would be "
                f"3 + 2 x (-0.9 - 0.9 - 0.9) = {float(w @ np.asarray(triple) @ w):.1f}, and no "
                "portfolio has a negative variance.")
    return dict(
        question="Can BTC-ETH be 0.9, ETH-SOL 0.9 and BTC-SOL -0.9 at the same time?",
        choices=[YES, NO],
        answer=lambda: NO if explain_inconsistent(triple, ["BTC", "ETH", "SOL"]) else YES,
        expected=NO,
        feedback={YES: "Each pair on its own is fine. But if BTC moves with ETH and ETH moves "
                       "with SOL, BTC cannot also move against SOL."},
        explanation=explanation)
