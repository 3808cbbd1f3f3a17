"""The margin engine: plain numpy, vectorized over accounts and scenarios.

Public names (one flat namespace, QuantEcon style):

* :class:`Market` — a venue's rulebook and prices; :meth:`Market.example`.
* :class:`Account`, :class:`Book` — one account, many accounts as arrays.
* :func:`margin_report` — equity, health, health factor, margin ratio, buckets, breakdown.
* :func:`liquidation_price`, :func:`free_collateral`, :func:`max_withdrawal`,
  :func:`max_position` — per-position liquidation prices (closed form, bracket by bracket) and
  what the venue still accepts (init health).
* :func:`liquidate` — account-level liquidation with penalty, insurance fund and bad debt.
* :class:`LiquidationRules` — venue liquidation conventions (restore health, Aave, full close);
  :func:`penalty_consistency`; :func:`adl_scores` — the auto-deleveraging ranking.
* :func:`volatile_shock`, :func:`crisis_shock`, :func:`deeper`, :func:`example_account`,
  :func:`diversified_account`, :data:`POOLING_POSITIONS` — the teaching scenarios the labs
  start from; :data:`STABLECOIN_VOLATILITY` and :attr:`Market.is_stablecoin`;
  :func:`shock_vector` validates a shock.
* :func:`cascade` — shock, liquidate, price impact, repeat until no account fails.
* :func:`correlated_returns`, :func:`stress_correlation`, :func:`liquidation_probability`.
* :func:`correlation_pairs`, :func:`with_correlations`, :func:`explain_inconsistent` —
  pairwise correlations by name, and why a set of them is impossible.
* :func:`cross_vs_isolated`, :func:`pnl_histogram`, :func:`pnl_quantiles` — one book's
  simulated liquidation probability in cross vs isolated mode, and its P&L distribution.
* :func:`fund_coverage` — who pays a cascade's bad debt: insurance fund vs socialized (ADL).
* :func:`closeouts`, :func:`penalty_split`, :func:`deleveraged` — what one liquidation call
  closed (units sold, bought back, debt repaid or written off, perps closed), who received its
  penalties, and who gives up profit for socialized bad debt, largest first.
* :func:`pool_contributions`, :func:`health_waterfall`, :func:`position_liquidation_prices`
  — explain one account's health: per column, as a waterfall, and where each position fails.
* :func:`isolated_twin`, :func:`capital_required`, :func:`compare_pooling` — the same
  positions margined cross vs isolated.
* :func:`liquidation_path`, :func:`ltv_frontier`, :func:`adl_queue`, :func:`stress_policy`,
  :func:`score_policy`, :func:`pareto_front` — the measures the mechanism pictures show (toxic
  spiral, ADL queue, a margin policy's bad debt vs capital efficiency).
* :func:`bracket_ladder`, :func:`spiral_pair`, :func:`spiral_path`, :func:`adl_example`,
  :func:`open_units` — the scenarios the mechanism pictures start from (widgets.engine.pictures).

Importing this package loads numpy only (no Jupyter libraries), so it runs and tests anywhere.
Units: money in the quote currency; weights, margins, shocks and returns as fractions.
"""
from ._validate import MarginInputError
from .book import Account, Book
from .cascade import CascadeResult, cascade, price_impact
from .liquidation import LiquidationEvent, LiquidationResult, liquidate
from .rulebook import LiquidationRules, penalty_consistency
from .adl import adl_scores
from .margin import MarginReport, margin_report
from .limits import Limit, free_collateral, liquidation_price, max_position, max_withdrawal
from .market import STABLECOIN_VOLATILITY, Market, shock_vector
from .presets import (CASCADE_DEPTH, POOLING_POSITIONS, crisis_shock, deeper,
                      diversified_account, example_account, volatile_shock)
from .scenarios import correlated_returns, liquidation_probability, stress_correlation
from .insurance import FundCoverage, fund_coverage
from .closeouts import Closeout, closeouts, deleveraged, penalty_split
from .explain import (CONTRIBUTION_KINDS, WATERFALL_STEPS, HealthWaterfall, health_waterfall,
                      pool_contributions, position_liquidation_prices)
from .pooling import (PoolingComparison, capital_required, compare_pooling, isolated_twin,
                      proportional_split)
from .correlation import correlation_pairs, explain_inconsistent, with_correlations
from .distribution import (PNL_LEVELS, CrossIsolatedRisk, PnlHistogram, cross_vs_isolated,
                           pnl_histogram, pnl_quantiles)
from .mechanics import (AdlQueue, LiquidationPath, PolicyScore, adl_queue, dominated_by,
                        liquidation_path, loan_to_value, ltv_frontier, pareto_front,
                        perp_notional, score_policy, stress_policy)
from .pictures import (AdlExample, BracketLadder, adl_example, bracket_ladder, bracket_sizes,
                       check_leverage, max_leverage, open_units, spiral_pair, spiral_path)

__all__ = [
    "MarginInputError", "Market", "Account", "Book", "STABLECOIN_VOLATILITY", "shock_vector",
    "volatile_shock", "crisis_shock", "deeper", "example_account", "diversified_account",
    "POOLING_POSITIONS", "CASCADE_DEPTH",
    "MarginReport", "margin_report",
    "liquidation_price", "free_collateral", "max_withdrawal", "max_position", "Limit",
    "LiquidationResult", "LiquidationEvent", "liquidate",
    "LiquidationRules", "penalty_consistency", "adl_scores",
    "CascadeResult", "cascade", "price_impact",
    "correlated_returns", "stress_correlation", "liquidation_probability",
    "isolated_twin", "proportional_split", "capital_required", "compare_pooling",
    "PoolingComparison",
    "pool_contributions", "health_waterfall", "HealthWaterfall", "CONTRIBUTION_KINDS",
    "WATERFALL_STEPS", "position_liquidation_prices",
    "FundCoverage", "fund_coverage",
    "Closeout", "closeouts", "penalty_split", "deleveraged",
    "correlation_pairs", "with_correlations", "explain_inconsistent",
    "cross_vs_isolated", "CrossIsolatedRisk", "pnl_histogram", "PnlHistogram", "pnl_quantiles",
    "PNL_LEVELS",
    "loan_to_value", "ltv_frontier", "liquidation_path", "LiquidationPath",
    "adl_queue", "AdlQueue", "stress_policy", "score_policy", "PolicyScore", "perp_notional",
    "pareto_front", "dominated_by",
    "bracket_ladder", "BracketLadder", "bracket_sizes", "max_leverage", "check_leverage",
    "spiral_pair", "spiral_path", "adl_example", "AdlExample", "open_units",
]
