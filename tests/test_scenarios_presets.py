"""The preset scenarios in ``lessons/scenarios/`` load into their components, and still tell their story.

Instructors load these files with ``ScenarioBar`` (its "Saved scenarios" menu lists the folder
when a lesson runs from ``lessons/``); ``lessons/instructor_guide.md`` describes what each one
shows. Every file must load through the bar with no problem message and leave the component in
exactly the saved state; for the presets the guide describes, the outcome it promises (which
part fails, which way a number moves) is checked too, so an engine change that breaks a
workshop's story fails here.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import widgets
from widgets import ScenarioBar
from widgets.engine import crisis_shock

FOLDER = Path(__file__).resolve().parents[1] / "lessons" / "scenarios"
PRESETS = sorted(FOLDER.glob("*.json"))


def _load(path: Path):
    payload = json.loads(path.read_text(encoding="utf-8"))
    component = getattr(widgets, payload["component"])()
    bar = ScenarioBar(component, directory=str(FOLDER))
    assert bar.load(path.stem), bar.status
    return payload, component


def _same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) <= set(b) and all(_same(v, b[k]) for k, v in a.items())
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a))
    return a == b


def test_there_are_presets():
    assert {"pooling_sol_squeeze", "pooling_crisis", "correlation_crisis",
            "cascade_thin_market"} <= {p.stem for p in PRESETS}


@pytest.mark.parametrize("path", PRESETS, ids=[p.stem for p in PRESETS])
def test_preset_loads_into_its_component(path):
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["component"] in widgets.__all__, f"unknown component {payload['component']}"
    assert payload.get("note"), "a preset says in one line what it shows (the 'note' field)"
    _, component = _load(path)
    assert component.problem == ""
    state = component.get_state_dict()
    assert _same(payload["state"], state), f"saved {payload['state']}, component has {state}"


# What instructor_guide.md promises each preset shows.
def _pooling_sol_squeeze(lab):
    assert not lab.cross_liquidatable and lab.isolated_failed == ["SOL"]
    assert lab.cross_loss == 0 < lab.isolated_loss


def _pooling_crisis(lab):
    assert lab.cross_liquidatable and lab.isolated_failed == ["BTC", "ETH"]
    assert lab.cross_loss > lab.isolated_loss > 0


def _correlation_crisis(lab):
    calm = widgets.CorrelationLab()
    assert lab.probability_cross > calm.probability_cross
    assert lab.probability_isolated < calm.probability_isolated
    assert (lab.probability_isolated - lab.probability_cross
            < calm.probability_isolated - calm.probability_cross)


def _cascade_thin_market(lab):
    assert lab.preset == "overheated" and lab.liquidation == "restore"
    assert lab.final_price_change["SOL"] < -0.85          # SOL's thin book collapses
    assert lab.final_price_change["BTC"] < -0.12          # a 5 % shock became a crash
    assert lab.n_liquidated > lab.book.n_accounts / 2
    calm = widgets.CascadeLab(depth=10.0)                 # the calm venue: a few percent
    assert calm.final_price_change["BTC"] > -0.07 and calm.n_liquidated < lab.n_liquidated / 10


def _cascade_deep_market(lab):
    assert -0.10 < lab.final_price_change["BTC"] < -0.05
    thin = widgets.CascadeLab(preset="overheated", depth=10.0)
    assert lab.n_liquidated < thin.n_liquidated and lab.bad_debt < thin.bad_debt


def _insurance_fund_crisis(lab):
    assert lab.socialized > 0 and lab.coverage < 0.5
    # the queue shows who pays: the engine's socialized_by_account, largest first
    assert lab.n_deleveraged > 0
    assert sum(lab.result.socialized_by_account) == pytest.approx(lab.socialized, rel=1e-9)
    assert lab.adl_amounts == sorted(lab.adl_amounts, reverse=True)


def _shock_crisis(panel):
    assert panel.shock == crisis_shock(panel.market)


STORIES = {"pooling_sol_squeeze": _pooling_sol_squeeze, "pooling_crisis": _pooling_crisis,
           "correlation_crisis": _correlation_crisis, "cascade_thin_market": _cascade_thin_market,
           "cascade_deep_market": _cascade_deep_market, "insurance_fund_crisis": _insurance_fund_crisis,
           "shock_crisis": _shock_crisis}


@pytest.mark.parametrize("name", sorted(STORIES))
def test_preset_tells_its_story(name):
    _, component = _load(FOLDER / f"{name}.json")
    STORIES[name](component)
