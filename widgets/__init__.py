"""Cross-Margin Lab: a Jupyter teaching toolkit for margin pooling.

The package is built in three layers, each depending only on the one below:

1. **engine** (``widgets.engine``) -- a pure-numpy margin engine: account
   and position models, margin requirements, pooling / cross-collateralization
   across positions, correlation effects and cascading liquidation.  It never
   imports ipywidgets, bqplot, traitlets or IPython, so it can be tested and
   benchmarked without a Jupyter stack.
2. **components** (``widgets.<component>``) -- ipywidgets + bqplot views
   over the engine, e.g. a pooling lab or a liquidation-cascade explorer.
   They are exposed lazily from this package (see ``_LAZY``) so that
   ``import widgets`` stays cheap and Jupyter-free.
3. **lessons** (``lessons/*.ipynb``, outside the package) -- notebooks that
   combine components into guided exercises.

``import widgets`` imports nothing heavy: components load on first attribute
access (PEP 562), and the engine is a normal subpackage
(``import widgets.engine``).
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

# Public component name -> module that defines it, imported on first access.
_LAZY: dict[str, str] = {
    "ShockPanel": "widgets.shock_panel",
    "HealthGauge": "widgets.health_gauge",
    "MarginBreakdown": "widgets.margin_breakdown",
    "PoolingLab": "widgets.pooling_lab",
    "CorrelationLab": "widgets.correlation_lab",
    "CascadeLab": "widgets.cascade_lab",
    "InsuranceFundLab": "widgets.insurance_fund_lab",
    "LiquidationTable": "widgets.liquidation_events",
    "SpiralChart": "widgets.spiral_chart",
    "BracketChart": "widgets.bracket_chart",
    "AdlQueueChart": "widgets.adl_queue",
    "PolicyFrontier": "widgets.policy_frontier",
    "SelfCheck": "widgets.self_check",
    "ScenarioBar": "widgets.scenario_bar",
    "check_environment": "widgets.environment",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str):
    try:
        module_name = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'widgets' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module_name), name)
    globals()[name] = value  # cache: later lookups skip __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
