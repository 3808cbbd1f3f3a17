"""The one table of lessons: the course map, the prev / next links and the closing page use it."""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Lesson:
    """One lesson: ``number`` "04", ``stem`` (file name without ``.ipynb``), ``title`` as the
    notebook's header starts (``# 4 · Liquidation mechanics``, before any ``:``) and ``goal``,
    what the learner will be able to do."""

    number: str
    stem: str
    title: str
    goal: str

    @property
    def file(self) -> str:
        return f"{self.stem}.ipynb"

    @property
    def label(self) -> str:
        return f"{self.number} · {self.title}"


LESSONS: tuple[Lesson, ...] = (
    Lesson("00", "00_start_here", "Start here",
           "run the widgets, read a margin report, save your work"),
    Lesson("01", "01_margin_pooling", "Margin pooling",
           "compare cross and isolated margin: capital saved, and what one bad position can cost"),
    Lesson("02", "02_collateral_haircuts_and_debt", "Collateral, haircuts and debt",
           "compute how much a venue lends against each asset, and why volatile collateral "
           "counts for less"),
    Lesson("03", "03_correlation_effects", "Correlation",
           "predict when a diversified pool is safer, and why correlations rise toward 1 in a "
           "crisis"),
    Lesson("04", "04_liquidation_mechanics", "Liquidation mechanics",
           "trace a liquidation: close factor, penalty, insurance fund and bad debt"),
    Lesson("05", "05_cascading_liquidation", "Cascading liquidation",
           "watch forced sales move prices and liquidate the next accounts, round by round"),
    Lesson("06", "06_mutualization_of_risk", "Mutualization of risk",
           "follow a loss from the insurance fund to auto-deleveraging of profitable traders"),
    Lesson("07", "07_case_studies", "Case studies",
           "re-run published liquidation events on the engine and explain what failed"),
    Lesson("08", "08_risk_desk_capstone", "Risk desk capstone",
           "act as a venue's risk desk: set margin parameters and defend them under stress"),
)

#: The page after lesson 08: what was learned, objective by objective, and where to go next.
CLOSING = Lesson("--", "where_next", "Where next",
                 "what you learned, objective by objective, and where to go from here")


def lesson(number_or_stem: str) -> Lesson:
    """The lesson with this number ("04") or file stem ("04_liquidation_mechanics")."""
    for item in (*LESSONS, CLOSING):
        if number_or_stem in (item.number, item.stem):
            return item
    raise KeyError(f"no lesson {number_or_stem!r}; known: {[x.number for x in LESSONS]}")
