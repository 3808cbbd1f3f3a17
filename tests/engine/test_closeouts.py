"""Known answers for closeouts / penalty_split / deleveraged (what one liquidation call did).

ETH at 2,000, weight 0.825, penalty 5 %; an account of 10 ETH against 17,000 of debt
(health 16,500 - 17,000 = -500).
"""
import numpy as np
import pytest

from widgets.engine import (Account, Book, LiquidationRules, MarginInputError, Market,
                            closeouts, deleveraged, liquidate, penalty_split)

ETH = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
ACCT = Account([10.0], cash=-17_000.0)


def test_half_close_sells_5_eth_and_repays_the_rest_of_the_sale():
    # 5 ETH sold for 10,000; 5 % penalty on the 8,500 of debt closed = 425; 9,575 repaid
    [c] = closeouts(ACCT, liquidate(ACCT, ETH, close_factor=0.5))
    assert (c.account, c.part) == (0, "pool")
    assert c.sold == {"ETH": pytest.approx(5.0)} and c.bought_back == {}
    assert c.debt_repaid == pytest.approx(9_575.0) and c.written_off == 0.0
    assert c.perps_closed == {}


def test_a_gap_writes_debt_off_instead_of_repaying_it():
    # ETH gaps to 1,500: 10 ETH fetch 15,000 against 17,000 of debt: 2,000 written off
    [c] = closeouts(ACCT, liquidate(ACCT, ETH, prices=[1_500.0], insurance_fund=1_500.0))
    assert c.sold == {"ETH": pytest.approx(10.0)}
    assert c.written_off == pytest.approx(2_000.0)
    assert c.debt_repaid == pytest.approx(15_000.0)


def test_perps_closed_are_signed_and_isolated_buckets_name_their_asset():
    abc = Market(["ABC"], [1.0], asset_weight=0.0, liability_weight=1.0,
                 maintenance_margin=0.03, initial_margin=0.05, liquidation_penalty=0.015)
    book = Book.from_accounts([Account([0.0], perps=[500.0], entry_prices=[1.0], cash=100.0),
                               Account([0.0], perps=[-500.0], entry_prices=[1.0], cash=100.0)])
    res = liquidate(book, abc, prices=[2.0])
    [c] = closeouts(book, res)
    assert (c.account, c.perps_closed) == (1, {"ABC": pytest.approx(-500.0)})
    assert res.socialized_by_account[0] == pytest.approx(400.0)
    assert deleveraged(res).tolist() == [0]
    m = Market.example()
    iso = Book.from_accounts([Account.from_positions(m, perps={"BTC": 1.0}, cash=1_300.0)])
    res = liquidate(iso, m, prices=m.prices * np.array([0.8, 0.8, 1, 1]), close_factor=0.5)
    for c in closeouts(iso, res):
        assert c.perps_closed and all(v > 0 for v in c.perps_closed.values())   # a long


def test_penalty_split_aave_and_the_fund():
    res = liquidate(ACCT, ETH, rules=LiquidationRules.aave())
    # Aave: repay 8,500, bonus 5 % = 425, of which 10 % (42.50) to the protocol's fund
    assert penalty_split(res) == (pytest.approx(42.5), pytest.approx(382.5))
    res = liquidate(ACCT, ETH, close_factor=0.5)          # the venue default: all to the fund
    assert penalty_split(res) == (pytest.approx(425.0), 0.0)


def test_the_book_must_be_the_one_passed():
    res = liquidate(ACCT, ETH)
    with pytest.raises(MarginInputError, match="book must be the book passed to liquidate"):
        closeouts(Book.from_accounts([ACCT, ACCT]), res)
    with pytest.raises(MarginInputError, match="book must be an Account or a Book"):
        closeouts("book", res)
    with pytest.raises(MarginInputError, match="result must be a LiquidationResult"):
        closeouts(ACCT, None)
