"""Pairwise correlations by name and plain-words explanations of impossible matrices."""
from __future__ import annotations

import math

import numpy as np
import pytest

from widgets.engine import MarginInputError, Market
from widgets.engine.correlation import (
    correlation_pairs,
    explain_inconsistent,
    with_correlations,
)

NAMES = ["BTC", "ETH", "SOL"]


def three(ab, bc, ac):
    return np.array([[1.0, ab, ac], [ab, 1.0, bc], [ac, bc, 1.0]])


def test_pairs_of_the_example_market_skip_the_stablecoin():
    assert correlation_pairs(Market.example()) == {"BTC-ETH": 0.8, "BTC-SOL": 0.7, "ETH-SOL": 0.75}
    assert "BTC-USDC" in correlation_pairs(Market.example(), min_volatility=0.0)


def test_with_correlations_sets_both_triangles_and_keeps_the_rest():
    m = Market.example()
    out = with_correlations(m, {"SOL-BTC": 0.3})           # either order names the pair
    assert out.correlation[0, 2] == out.correlation[2, 0] == 0.3
    assert out.correlation[0, 1] == 0.8 and out.correlation[3, 0] == 0.0
    assert m.correlation[0, 2] == 0.7                      # the input market is untouched


@pytest.mark.parametrize("pairs, text", [
    ({"BTC-DOGE": 0.1}, "'BTC-DOGE'"),
    ({"BTC-BTC": 1.0}, "'BTC-BTC'"),
    ({"BTC-ETH": math.nan}, "BTC-ETH must be a number between -1 and 1, got nan"),
    ({"BTC-ETH": 1.5}, "BTC-ETH must be a number between -1 and 1, got 1.5"),
    ({"BTC-ETH": "high"}, "BTC-ETH must be a number, got 'high'"),
])
def test_bad_pairs_are_named(pairs, text):
    with pytest.raises(MarginInputError) as err:
        with_correlations(Market.example(), pairs)
    assert text in str(err.value)


def test_impossible_triple_is_explained_and_names_the_eigenvalue():
    bad = {"BTC-ETH": 0.9, "ETH-SOL": 0.9, "BTC-SOL": -0.9}
    with pytest.raises(MarginInputError) as err:
        with_correlations(Market.example(), bad, prefer="BTC-SOL")
    msg = str(err.value)
    # given 0.9 and 0.9: 0.81 +- sqrt(0.19 * 0.19) = [0.62, 1.00]
    assert "cannot all hold at once" in msg
    assert "BTC-SOL can only be between 0.62 and 1.00, so -0.90 is impossible" in msg
    assert "smallest eigenvalue" in msg


def test_explanation_follows_the_pair_the_learner_moved():
    c = three(0.9, 0.9, -0.9)
    assert "BTC-ETH can only be between -1.00 and -0.62" in explain_inconsistent(
        c, NAMES, prefer="ETH-BTC")
    assert explain_inconsistent(three(0.8, 0.75, 0.7), NAMES) == ""


def test_bound_is_the_determinant_boundary_rounded_inward():
    # ab = 0.8, bc = 0.75: ac in 0.6 -+ sqrt(0.36 * 0.4375) = [0.2031, 0.9969], stated inward
    # as [0.21, 0.99].
    msg = explain_inconsistent(three(0.8, 0.75, 0.2), NAMES, prefer="BTC-SOL")
    assert "between 0.21 and 0.99, so 0.20 is impossible" in msg
    assert explain_inconsistent(three(0.8, 0.75, 0.21), NAMES) == ""
    # ab = 0.6, bc = 0.8: ac in 0.48 +- 0.8 * 0.6 = [0, 0.96]; just outside fails, inside passes.
    assert explain_inconsistent(three(0.6, 0.8, -0.01), NAMES) != ""
    assert explain_inconsistent(three(0.6, 0.8, 0.01), NAMES) == ""
    assert "between 0.00 and 0.96" in explain_inconsistent(three(0.6, 0.8, 0.99), NAMES,
                                                           prefer="BTC-SOL")


def test_four_assets_without_a_bad_triple_get_the_general_sentence():
    # Every triple of this equicorrelated 4 x 4 matrix (rho = -0.4) is possible (rho >= -1/2),
    # the whole is not (rho >= -1/3 needed).
    c = np.full((4, 4), -0.4) + 1.4 * np.eye(4)
    msg = explain_inconsistent(c, ["A", "B", "C", "D"])
    assert "no possible market" in msg
