"""Fixtures shared by the engine tests."""
from __future__ import annotations

import importlib

import pytest

from widgets.engine import LiquidationRules

_rulebook = importlib.import_module("widgets.engine.rulebook")
_cascade_module = importlib.import_module("widgets.engine.cascade")


@pytest.fixture
def legacy_engine_defaults(monkeypatch):
    """The engine's original liquidation rule (close everything, penalty on the notional of every
    leg, all to the fund) and impact scaling as the defaults. Files of known answers computed with
    them use it (``pytestmark = pytest.mark.usefixtures("legacy_engine_defaults")``) so they keep
    checking that arithmetic; the venue conventions and the common impact scale have their own
    tests (test_rules*.py)."""
    monkeypatch.setattr(_rulebook, "DEFAULT", LiquidationRules.legacy())
    monkeypatch.setattr(_cascade_module, "IMPACT_SCALE", "legacy")
