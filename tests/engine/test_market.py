"""Market: the venue rulebook and prices. Construction, immutability, helpers, bad input."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from widgets.engine import MarginInputError, Market


def eth_usdc(**kw):
    return Market(["ETH", "USDC"], [2_000.0, 1.0], **kw)


# -- construction -------------------------------------------------------------------------

def test_scalars_broadcast_to_every_asset():
    m = eth_usdc(asset_weight=0.8)
    assert m.assets == ("ETH", "USDC")
    assert m.n_assets == 2
    assert m.asset_weight.tolist() == [0.8, 0.8]
    # documented defaults: aw 0.9, lw 1.1, mm 5 %, im 10 %, penalty 5 %, vol 4 %, depth 1e7
    assert m.liability_weight.tolist() == [1.1, 1.1]
    assert m.maintenance_margin.tolist() == [0.05, 0.05]
    assert m.initial_margin.tolist() == [0.10, 0.10]
    assert m.liquidation_penalty.tolist() == [0.05, 0.05]
    assert m.volatility.tolist() == [0.04, 0.04]
    assert m.depth.tolist() == [1e7, 1e7]
    np.testing.assert_array_equal(m.correlation, np.eye(2))


def test_per_asset_vectors_and_index():
    m = eth_usdc(asset_weight=[0.8, 1.0], liability_weight=[1.2, 1.0])
    assert m.index("USDC") == 1
    assert float(m.prices[m.index("ETH")]) == 2_000.0
    assert float(m.asset_weight[m.index("ETH")]) == 0.8
    assert float(m.liability_weight[m.index("USDC")]) == 1.0


def test_boundary_values_are_accepted():
    # asset_weight 0 and 1, liability_weight exactly 1, im == mm, penalty 0 and 1, volatility 0
    kw = dict(asset_weight=[0.0, 1.0], liability_weight=1.0, maintenance_margin=[0.0, 1.0],
              initial_margin=[0.0, 1.0], liquidation_penalty=[0.0, 1.0], volatility=0.0)
    # penalty 1 on an asset of weight 1 fails the venue check (1 x (1 + 1) > 1): on purpose only
    with pytest.raises(MarginInputError, match=r"liquidation_penalty\[B\]"):
        Market(["A", "B"], [1.0, 2.0], **kw)
    m = Market(["A", "B"], [1.0, 2.0], allow_inconsistent_penalty=True, **kw)
    assert m.initial_margin.tolist() == [0.0, 1.0]
    assert m.liquidation_penalty.tolist() == [0.0, 1.0]


def test_example_uses_documented_parameters():
    m = Market.example()
    assert m.assets == ("BTC", "ETH", "SOL", "USDC")
    # Hyperliquid: maintenance = half the initial margin at max leverage 40x / 25x / 20x
    # BTC: im = 1/40 = 2.5 %, mm = 1.25 %; ETH 4 % / 2 %; SOL 5 % / 2.5 %
    np.testing.assert_allclose(m.initial_margin[:3], [1 / 40, 1 / 25, 1 / 20])
    np.testing.assert_allclose(m.maintenance_margin[:3], m.initial_margin[:3] / 2)
    # Mango v4 maintenance weights 0.9 / 1.1 for majors, 1 / 1 for USDC
    assert m.asset_weight.tolist() == [0.9, 0.9, 0.9, 1.0]
    assert m.liability_weight.tolist() == [1.1, 1.1, 1.1, 1.0]
    assert np.linalg.eigvalsh(m.correlation).min() > 0


# -- immutability ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["prices", "asset_weight", "liability_weight",
                                  "maintenance_margin", "initial_margin", "liquidation_penalty",
                                  "volatility", "depth", "correlation"])
def test_arrays_are_read_only(name):
    m = Market.example()
    arr = getattr(m, name)
    assert arr.flags.writeable is False
    with pytest.raises(ValueError):
        arr[0] = 1.0


def test_fields_cannot_be_rebound():
    m = eth_usdc()
    with pytest.raises(dataclasses.FrozenInstanceError):
        m.prices = np.array([1.0, 1.0])


def test_inputs_are_copied():
    prices = np.array([2_000.0, 1.0])
    corr = np.eye(2)
    m = Market(["ETH", "USDC"], prices, correlation=corr)
    prices[0] = 1.0
    corr[0, 0] = 5.0
    assert m.prices.tolist() == [2_000.0, 1.0]
    assert m.correlation[0, 0] == 1.0


def test_replace_revalidates_and_leaves_original_untouched():
    m = eth_usdc(asset_weight=0.8)
    # the 5 % penalty stored on m is explicit now: USDC at weight 1 must drop it (venue check)
    with pytest.raises(MarginInputError, match=r"liquidation_penalty\[USDC\]"):
        m.replace(asset_weight=[0.7, 1.0])
    m2 = m.replace(asset_weight=[0.7, 1.0], liquidation_penalty=[0.05, 0.0])
    assert m2 is not m
    assert m2.asset_weight.tolist() == [0.7, 1.0]
    assert m.asset_weight.tolist() == [0.8, 0.8]
    # A bad change raises and leaves no partial state behind: m is exactly as before.
    with pytest.raises(MarginInputError, match=r"asset_weight\[ETH\].*1\.2"):
        m.replace(asset_weight=[1.2, 1.0])
    assert m.asset_weight.tolist() == [0.8, 0.8]
    assert m.prices.tolist() == [2_000.0, 1.0]
    assert m.asset_weight.flags.writeable is False


def test_with_prices_and_shocked():
    m = eth_usdc(asset_weight=0.8)
    assert m.with_prices([1_500.0, 1.0]).prices.tolist() == [1_500.0, 1.0]
    # -10 % on every asset: 2,000 * 0.9 = 1,800; 1 * 0.9 = 0.9
    np.testing.assert_allclose(m.shocked(-0.1).prices, [1_800.0, 0.9])
    # only ETH moves with a mapping: 2,000 * (1 - 0.25) = 1,500
    np.testing.assert_allclose(m.shocked({"ETH": -0.25}).prices, [1_500.0, 1.0])
    # rulebook unchanged
    assert m.shocked(-0.1).asset_weight.tolist() == [0.8, 0.8]
    assert m.prices.tolist() == [2_000.0, 1.0]


def test_per_asset_mapping():
    m = eth_usdc()
    assert m.per_asset("holdings", {"USDC": 5.0}).tolist() == [0.0, 5.0]
    assert m.per_asset("holdings", 3.0).tolist() == [3.0, 3.0]


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("kw, pattern", [
    (dict(prices=[float("nan"), 1.0]), r"prices\[ETH\].*finite.*nan"),
    (dict(prices=[float("inf"), 1.0]), r"prices\[ETH\].*finite.*inf"),
    (dict(prices=[-5.0, 1.0]), r"prices\[ETH\].*-5\.0"),
    (dict(prices=[0.0, 1.0]), r"prices\[ETH\].*got 0\.0"),
    (dict(asset_weight=[1.2, 1.0]), r"asset_weight\[ETH\].*\[0\.0, 1\.0\].*1\.2"),
    (dict(asset_weight=[1.0, -0.1]), r"asset_weight\[USDC\].*-0\.1"),
    (dict(liability_weight=[0.9, 1.0]), r"liability_weight\[ETH\].*0\.9"),
    (dict(maintenance_margin=0.05, initial_margin=[0.01, 0.1]),
     r"initial_margin\[ETH\].*maintenance_margin.*0\.01"),
    (dict(liquidation_penalty=[0.05, 1.5]), r"liquidation_penalty\[USDC\].*1\.5"),
    (dict(volatility=[-0.01, 0.0]), r"volatility\[ETH\].*-0\.01"),
    (dict(depth=[0.0, 1e6]), r"depth\[ETH\].*got 0\.0"),
    (dict(asset_weight="high"), r"asset_weight.*'high'"),
])
def test_bad_market_fields(kw, pattern):
    args = dict(assets=["ETH", "USDC"], prices=[2_000.0, 1.0])
    args.update(kw)
    with pytest.raises(MarginInputError, match=pattern) as info:
        Market(**args)
    assert isinstance(info.value, ValueError)


def test_nan_message_prints_plain_nan():
    # numpy 2 would print np.float64(nan) if the value were not converted to float
    with pytest.raises(MarginInputError) as info:
        eth_usdc(volatility=[np.float64("nan"), 0.0])
    assert "np.float64" not in str(info.value)
    assert str(info.value).endswith("got nan")


@pytest.mark.parametrize("corr, pattern", [
    ([[1.0, 0.5], [0.2, 1.0]], r"correlation.*symmetric.*0\.5.*0\.2"),
    ([[0.9, 0.0], [0.0, 1.0]], r"correlation\[ETH, ETH\].*1.*got 0\.9"),
    ([[1.0, 1.5], [1.5, 1.0]], r"correlation\[0, 1\].*1\.5"),
    ([[1.0, float("nan")], [float("nan"), 1.0]], r"correlation.*finite.*nan"),
    (np.eye(3), r"correlation.*shape \(2, 2\).*\(3, 3\)"),
])
def test_bad_correlation(corr, pattern):
    with pytest.raises(MarginInputError, match=pattern):
        eth_usdc(correlation=corr)


def test_correlation_not_psd_names_smallest_eigenvalue():
    # rho(A,B) = 0.9, rho(B,C) = 0.9 but rho(A,C) = -0.9: impossible; eigenvalues -0.8, 1.9, 1.9
    corr = [[1, .9, -.9], [.9, 1, .9], [-.9, .9, 1]]
    with pytest.raises(MarginInputError, match=r"correlation.*positive semi-definite.*-0\.8"):
        Market(["A", "B", "C"], [1.0, 1.0, 1.0], correlation=corr)


@pytest.mark.parametrize("assets, pattern", [
    ([], r"assets.*\[\]"),
    ("ETH", r"assets.*'ETH'"),
    (["ETH", "ETH"], r"assets.*unique.*'ETH'"),
    (["ETH", ""], r"assets.*''"),
])
def test_bad_asset_names(assets, pattern):
    with pytest.raises(MarginInputError, match=pattern):
        Market(assets, [1.0] * max(len(assets), 1))


def test_prices_wrong_length():
    with pytest.raises(MarginInputError, match=r"prices.*shape \(2,\).*\(3,\)"):
        Market(["ETH", "USDC"], [1.0, 2.0, 3.0])


def test_unknown_asset_in_mapping_names_field_and_value():
    m = eth_usdc()
    with pytest.raises(MarginInputError, match=r"holdings.*'DOGE'"):
        m.per_asset("holdings", {"DOGE": 1.0})
    with pytest.raises(MarginInputError, match=r"shock.*'DOGE'"):
        m.shocked({"DOGE": -0.1})
    with pytest.raises(MarginInputError, match=r"asset.*'DOGE'"):
        m.index("DOGE")


@pytest.mark.parametrize("shock, pattern", [
    (-1.5, r"shock\[ETH\].*-1\.5"),
    (-1.0, r"shock\[ETH\].*-1\.0"),
    ({"USDC": float("nan")}, r"shock\[USDC\].*nan"),
    ([0.1, 0.2, 0.3], r"shock.*shape"),
])
def test_bad_shock(shock, pattern):
    m = eth_usdc()
    with pytest.raises(MarginInputError, match=pattern):
        m.shocked(shock)
    assert m.prices.tolist() == [2_000.0, 1.0]


# --------------------------------------------------------------------------------------------
# Brackets and init weights (issue 11)
# --------------------------------------------------------------------------------------------
TIERS = {"floor": [0, 50_000, 250_000], "maintenance": [0.004, 0.005, 0.01],
         "initial": [0.008, 0.01, 0.02]}


def test_requirement_api_broadcasts_over_leading_axes():
    m = Market(["BTC", "ETH"], [100_000.0, 4_000.0], maintenance_margin=[0.004, 0.02],
               initial_margin=[0.01, 0.04], brackets={"BTC": TIERS})
    N = np.array([[[40_000.0, 1_000.0], [100_000.0, 2_000.0]],
                  [[300_000.0, 0.0], [0.0, 10.0]]])             # (2, 2, n_assets)
    mm = m.maintenance_requirement(N)
    assert mm.shape == N.shape
    # BTC: 40,000 x 0.4 % = 160; 100,000 x 0.5 % - 50 = 450; 300,000 x 1 % - 1,300 = 1,700.
    # ETH: single 2 %: 20, 40, 0, 0.2.
    np.testing.assert_allclose(mm, [[[160.0, 20.0], [450.0, 40.0]], [[1_700.0, 0.0],
                                                                      [0.0, 0.2]]])
    im = m.initial_requirement(N)
    np.testing.assert_allclose(im[..., 0], [[320.0, 1_000.0], [6_000.0, 0.0]])
    np.testing.assert_allclose(im[..., 1], N[..., 1] * 0.04)


def test_brackets_survive_replace_and_set_first_rates():
    m = Market(["BTC", "ETH"], [100_000.0, 4_000.0], brackets={"BTC": TIERS})
    assert m.maintenance_margin[0] == 0.004 and m.initial_margin[0] == 0.008
    m2 = m.with_prices([50_000.0, 4_000.0])
    assert m2.bracket_table("BTC") == m.bracket_table("BTC")
    assert m2.has_brackets and not m2.replace(brackets=None).has_brackets
    assert m.bracket_table("ETH")["floor"] == (0.0,)


def test_example_init_weights_are_mangos():
    m = Market.example()
    assert m.init_asset_weight.tolist() == [0.8, 0.8, 0.8, 1.0]
    assert m.init_liability_weight.tolist() == [1.2, 1.2, 1.2, 1.0]
    assert not m.has_brackets
