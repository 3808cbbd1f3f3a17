"""widgets.engine.pictures: the mechanism pictures' scenarios and measures, by known answers."""
import numpy as np
import pytest

from widgets.engine import (Account, Book, LiquidationRules, MarginInputError, Market,
                            adl_example, bracket_ladder, bracket_sizes, check_leverage,
                            liquidation_path, ltv_frontier, margin_report, max_leverage,
                            open_units, spiral_pair, spiral_path)

# Binance BTCUSDT brackets (historical table, lesson 1); amounts 0, 50, 1,300, 16,300, 266,300...
BTCUSDT = {"floor": [0, 50_000, 250_000, 1_000_000, 10_000_000, 20_000_000, 50_000_000,
                     100_000_000, 200_000_000, 300_000_000],
           "maintenance": [0.004, 0.005, 0.01, 0.025, 0.05, 0.10, 0.125, 0.15, 0.25, 0.50],
           "initial": [0.008, 0.01, 0.02, 0.05, 0.10, 0.20, 0.25, 1 / 3, 0.50, 1.0]}
BINANCE = Market(["BTC"], [50_000.0], brackets={"BTC": BTCUSDT})


def test_bracket_ladder_ends_worked_by_hand():
    lad = bracket_ladder(BINANCE, "BTC", 10)
    # 10,000 USD: 0.2 BTC, 1,000 posted, rate 0.4 %: 9,000 / (0.2 x 0.996) = 45,180.72
    # 19,900,000 USD: 398 BTC, 1,990,000 posted, bracket 10M-20M (5 %, amount 266,300):
    # maintenance 995,000 - 266,300 = 728,700; LP 17,643,700 / (0.95 x 398)
    assert lad.sizes[0] == pytest.approx(10_000) and lad.sizes[-1] == pytest.approx(19_900_000)
    assert lad.sizes.size == 300 and lad.entry_price == 50_000.0 and lad.leverage == 10.0
    assert lad.maintenance_rates[0] == pytest.approx(0.004)
    assert lad.maintenance_rates[-1] == pytest.approx(728_700 / 19_900_000)
    assert lad.liquidation_prices[0] == pytest.approx(9_000 / 0.1992)
    assert lad.liquidation_prices[-1] == pytest.approx(17_643_700 / (0.95 * 398))
    assert lad.moves[0] == pytest.approx(9_000 / 0.1992 / 50_000 - 1)
    # a bigger position: a higher rate and a liquidation closer to entry
    assert np.all(np.diff(lad.maintenance_rates) >= -1e-15)
    assert np.all(np.diff(lad.liquidation_prices) >= -1e-9)


def test_bracket_ladder_entry_price_and_sizes():
    lad = bracket_ladder(BINANCE, "BTC", 20, entry_price=40_000.0)
    assert lad.entry_price == 40_000.0
    assert lad.sizes[-1] == pytest.approx(9_950_000)        # 20x barred from 10,000,000 on
    # 10,000 USD at 40,000: 0.25 BTC, 500 posted: (10,000 - 500) / (0.25 x 0.996)
    assert lad.liquidation_prices[0] == pytest.approx(9_500 / 0.249)
    # 2x is barred only from the 300,000,000 floor (initial 100 %: 1x)
    assert bracket_sizes(BINANCE, "BTC", 2) == (10_000.0, 0.995 * 300_000_000)
    flat = Market(["BTC"], [50_000.0], maintenance_margin=0.004, initial_margin=0.008)
    assert bracket_sizes(flat, "BTC", 10) == (1e4, 1e7)
    assert max_leverage(flat, "BTC") == pytest.approx(125.0)


@pytest.mark.parametrize("leverage, words", [(1.0, "above 1"), (0.5, "above 1"),
                                             (126.0, "at most 125"), (float("nan"), "finite")])
def test_leverage_out_of_range_is_refused(leverage, words):
    with pytest.raises(MarginInputError, match=words):
        check_leverage(BINANCE, "BTC", leverage)
    with pytest.raises(MarginInputError):
        bracket_ladder(BINANCE, "BTC", leverage)


def test_bad_entry_price_and_asset_are_refused():
    with pytest.raises(MarginInputError, match="entry_price"):
        bracket_ladder(BINANCE, "BTC", 10, entry_price=0.0)
    with pytest.raises(MarginInputError, match="asset must be one of"):
        bracket_ladder(BINANCE, "ETH", 10)


def test_spiral_pair_straddles_the_frontier():
    m = Market.example()
    book, ltv = spiral_pair(m)
    fr = ltv_frontier(book, m)
    # ETH penalty 1.25 % on the debt: 1 / 1.0125 = 0.98765; B at 0.98765 + 0.01235 / 4 = 0.991
    assert fr == pytest.approx([1 / 1.0125] * 2)
    assert ltv.tolist() == [0.92, 0.991]
    e = m.index("ETH")
    assert book.cash.tolist() == pytest.approx([-0.92 * 5 * m.prices[e], -0.991 * 5 * m.prices[e]])


def test_spiral_path_fixed_fraction_with_the_rules_penalty_basis():
    m = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
    pair = Book.from_accounts([Account([5.0], cash=-9_000.0), Account([5.0], cash=-9_600.0)])
    # penalty 5 % of the collateral sold, half per call: B 0.96 -> 0.97 -> 0.99 -> 1.00
    old = spiral_path(pair, m, 0.5, 3, rules=LiquidationRules.fraction(0.9, "notional"))
    assert old.ltv[:, 1] == pytest.approx([0.96, 0.97, 0.99, 1.00])
    assert old.frontier == pytest.approx([0.95, 0.95])
    # no rules: the close factor alone, as liquidation_path
    np.testing.assert_array_equal(spiral_path(pair, m, 0.5, 3).ltv,
                                  liquidation_path(pair, m, 0.5, 3).ltv)


def test_adl_example_equities_and_open_units():
    m = Market(["X"], [100.0], maintenance_margin=0.03, initial_margin=0.05)
    ex = adl_example(m)
    # equity = cash + (entry - mark) on a 1-unit short: 3.3, 0.5 and 0.2 x the mark
    assert margin_report(ex.book, m).equity == pytest.approx([330.0, 50.0, 20.0])
    assert ex.asset == "X" and ex.bankruptcy_price == pytest.approx(103.0)
    assert open_units(ex.book, m, "X", "short") == 3.0
    assert open_units(ex.book, m, "X", "long") == 0.0
    with pytest.raises(MarginInputError, match="side must be"):
        open_units(ex.book, m, "X", "up")
