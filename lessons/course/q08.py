"""Lesson 08 · Risk-desk capstone: the self-checks (asked by ``ask(...)`` cells)."""
import numpy as np

from widgets.engine import fund_coverage, margin_report

from ._fmt import musd
from .questions import register

question = register("08")

SHARES = ["none", "fewer than 5 %", "between 5 % and 25 %", "more than 25 %"]


def share_of(mask) -> str:
    """The band of SHARES that the fraction of True in ``mask`` falls in."""
    return SHARES[int(np.digitize(np.mean(mask), [1e-9, 0.05, 0.25]))]


@question
def initial_x2_overnight(book, im_x2):
    """Doubling initial margin liquidates nobody: liquidation looks at maintenance."""
    return dict(
        question="Overnight the desk doubles initial margin on every perp (max leverage BTC 40x "
                 "-> 20x, ETH 25x -> 12.5x, SOL 20x -> 10x) and leaves maintenance margin "
                 "alone. What share of the 10,000 accounts is liquidatable at the next mark?",
        choices=SHARES, answer=lambda: share_of(margin_report(book, im_x2).liquidatable),
        feedback={s: "Liquidation compares equity with MAINTENANCE margin, which did not "
                     "change. Initial margin only gates opening or increasing a position."
                  for s in SHARES[1:]},
        explanation=lambda: (
            f"{int(margin_report(book, im_x2).liquidatable.sum()):,} accounts. The accounts "
            "that used more than half of their old leverage limit are now over the new initial "
            "margin: they cannot add to positions or withdraw until they add collateral or "
            "reduce, but nothing forces them out."),
        expected="none")


@question
def maintenance_x3_overnight(book, mm_x3):
    """Tripling maintenance margin liquidates the accounts that used most of their limit."""
    n = lambda: int(margin_report(book, mm_x3).liquidatable.sum())
    return dict(
        question="Instead, the desk triples maintenance margin overnight (initial margin x1.5, "
                 "so it stays above). Every account met the OLD initial margin. What share of "
                 "the accounts is liquidatable at the next mark?",
        choices=SHARES, answer=lambda: share_of(margin_report(book, mm_x3).liquidatable),
        feedback={"none": "Meeting the old initial margin means equity >= 2x the old "
                          "maintenance margin. Tripled maintenance is 3x: accounts that used "
                          "more than two thirds of their limit are already past it.",
                  "between 5 % and 25 %": "Most traders on this venue hold little leverage "
                                          "(median 0.2x, like Hyperliquid's accounts): only "
                                          "the thin tail near its limit is caught.",
                  "more than 25 %": "Accounts using less than two thirds of their old limit "
                                    "still clear 3x maintenance: most of the book is "
                                    "untouched."},
        explanation=lambda: (
            f"{n():,} of {book.n_accounts:,} accounts ({100 * n() / book.n_accounts:.0f} %): "
            "roughly, "
            "every account whose perps use more than two thirds of its old initial-margin limit "
            "is liquidatable at once, before any price moves. On this book few accounts run "
            "that close to their limit, but each of them is liquidated, with penalties, into "
            "whatever market there is."),
        expected="fewer than 5 %")


def _cut(stress, venue, policy):
    return 1 - stress(policy)[1].bad_debt / stress(venue)[1].bad_debt


def _notional_cut(stress, venue, policy):
    held = lambda m: float((np.abs(stress(m)[0].perps) @ m.prices).sum())
    return 1 - held(policy) / held(venue)


@question
def initial_x2_bad_debt(stress, venue, im_x2):
    """Capping leverage cuts crisis bad debt by more than it cuts notional (bad debt is convex)."""
    bands = ["less than the fall in notional", "one to two times the fall in notional",
             "more than twice the fall in notional"]
    ratio = lambda: _cut(stress, venue, im_x2) / _notional_cut(stress, venue, im_x2)
    return dict(
        question="Doubling initial margin halves the leverage limit, which binds only the traders "
                 "who want more than the new limit: after the book adapts, the same traders "
                 f"hold {100 * _notional_cut(stress, venue, im_x2):.0f} % less perp notional. "
                 "How does the fall in crisis bad debt compare?",
        choices=bands,
        answer=lambda: bands[int(np.digitize(ratio(), [1.0, 2.0]))],
        feedback={bands[0]: "Bad debt is not proportional to leverage. In a gap s, an account "
                            "with equity E and leverage L leaves E x max(0, L x s - 1) of bad "
                            "debt: the notional given up is the most leveraged traders', exactly "
                            "the accounts that go bankrupt in a gap.",
                  bands[1]: "Think about WHOSE notional is given up: only the traders above the "
                            "new limit, and in a gap of 21-35 % those are the ones that leave bad "
                            "debt; accounts pushed below leverage 1/s leave none at all."},
        explanation=lambda: (
            "Bad debt is convex in leverage while notional is linear in it: E x (L s - 1) falls "
            "faster than L, and the cap falls on the most leveraged accounts first. Notional "
            f"falls {100 * _notional_cut(stress, venue, im_x2):.0f} %, crisis bad debt "
            f"{100 * _cut(stress, venue, im_x2):.0f} % ({musd(stress(venue)[1].bad_debt)} → "
            f"{musd(stress(im_x2)[1].bad_debt)}), {ratio():.1f} times as much."),
        expected="more than twice the fall in notional")


@question
def maintenance_x2_bad_debt(stress, venue, mm_x2):
    """In a gap, an earlier liquidation trigger barely changes bad debt."""
    bands = ["almost nothing (under 1 %)", "about a quarter", "about half or more"]
    return dict(
        question="Now double maintenance margin instead and leave initial margin alone (the "
                 "same positions as today). By how much does the crisis bad debt fall?",
        choices=bands,
        answer=lambda: bands[int(np.digitize(_cut(stress, venue, mm_x2), [0.01, 0.35]))],
        feedback={"about a quarter": "An earlier trigger helps only if there is a price between "
                                     "the trigger and bankruptcy at which to liquidate. A "
                                     "21-35 % gap jumps over both.",
                  "about half or more": "Maintenance margin decides WHEN liquidation starts, "
                                        "not how big the positions are. In a gap, when does "
                                        "not matter."},
        explanation=lambda: (
            f"Almost nothing ({100 * _cut(stress, venue, mm_x2):.2f} %): the crisis is a gap far "
            "larger than any maintenance margin (1.25-5 %), so accounts go from healthy to "
            "bankrupt in one step. A higher maintenance margin earns its keep in slower "
            "declines, where the liquidation engine can act between price moves."),
        expected="almost nothing (under 1 %)")


@question
def price_of_safety(stress, venue, im_x2, notional):
    """Cents of crisis bad debt removed per dollar of perp notional given up."""
    def parts():
        debt = stress(venue)[1].bad_debt - stress(im_x2)[1].bad_debt
        given_up = notional.sum() - (np.abs(stress(im_x2)[0].perps) @ venue.prices).sum()
        return debt, given_up
    cents = lambda: 100 * parts()[0] / parts()[1]
    return dict(
        question="Read the table: per dollar of perp notional given up, how many CENTS of "
                 "crisis bad debt does 'initial x2' remove?",
        answer=cents, unit="cents", tolerance=0.05,
        hints={"high": "Divide the fall in bad debt by the fall in notional "
                       f"({musd(notional.sum(), 0)} x the share given up).",
               "low": "Bad debt fell from the 'today' row to the 'initial x2' row; notional "
                      "fell by the share the last column gives up."},
        explanation=lambda: (
            f"About {cents():.0f} cents: {musd(parts()[0])} less bad debt for "
            f"{musd(parts()[1])} less notional. That is the price of safety in this crisis. "
            "Compare it with the fee income a dollar of notional earns, and with a dollar of "
            "insurance fund, which covers a dollar of bad debt but is the venue's own capital."),
        expected=18.2)


@question
def fund_share(stress, venue):
    """Share of the crisis bad debt a 5 M USD fund (plus the penalties it collects) covers."""
    def parts():
        run = stress(venue)[1]
        cover = fund_coverage(run, 5e6)
        return float(cover.covered[0]), float(run.bad_debt), float(cover.penalties)
    share = lambda: 100 * parts()[0] / parts()[1]
    return dict(
        question="At today's rules, a 5 M USD insurance fund (plus the penalties it collects "
                 "during the crash) covers what share of the crisis bad debt, in percent?",
        answer=share, unit="%", tolerance=0.05,
        hints={"high": "Compare 5 M USD with the bad debt printed in section 1: the fund is smaller "
                       "than it.",
               "low": "Penalties collected during the cascade are added to the fund before each "
                      "round's bad debt is paid."},
        explanation=lambda: (
            f"About {share():.0f} %: 5 M USD plus about {musd(parts()[2], 2)} of penalties "
            "against "
            f"{musd(parts()[1])} of bad debt. A fund protects against the losses it was "
            "sized for, not against every loss; the rest is socialized (auto-deleveraging)."),
        expected=38.2)
