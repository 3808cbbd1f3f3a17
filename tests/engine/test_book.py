"""Account and Book: construction, immutability, helpers, Book.random, bad input."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from widgets.engine import Account, Book, MarginInputError, Market, margin_report


@pytest.fixture
def market():
    return Market.example()   # BTC, ETH, SOL, USDC


# -- Account ----------------------------------------------------------------------------------

def test_account_defaults():
    a = Account([10.0], cash=-17_000.0)
    assert a.holdings.tolist() == [10.0]
    assert a.perps.tolist() == [0.0]
    assert a.entry_prices.tolist() == [0.0]
    assert a.isolated_margin.tolist() == [0.0]
    assert a.mode == "cross"
    assert a.cash == -17_000.0 and isinstance(a.cash, float)
    assert a.n_assets == 1


def test_account_arrays_read_only():
    a = Account([1.0, 2.0], perps=[0.5, 0.0], entry_prices=[10.0, 0.0])
    for name in ("holdings", "perps", "entry_prices", "isolated_margin"):
        arr = getattr(a, name)
        assert arr.flags.writeable is False
        with pytest.raises(ValueError):
            arr[0] = 99.0
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.cash = 5.0


def test_entry_price_of_a_closed_perp_is_dropped():
    # entry price only matters where a perp is open; elsewhere it is stored as 0
    a = Account([0.0, 0.0], perps=[1.0, 0.0], entry_prices=[100.0, 55.0])
    assert a.entry_prices.tolist() == [100.0, 0.0]


def test_from_positions(market):
    a = Account.from_positions(market, holdings={"ETH": 10}, cash=-17_000)
    assert a.holdings.tolist() == [0.0, 10.0, 0.0, 0.0]
    assert a.cash == -17_000.0
    # a perp without an entry price is taken as opened at the current price (100,000 for BTC)
    b = Account.from_positions(market, perps={"BTC": 0.5, "SOL": -3})
    assert b.perps.tolist() == [0.5, 0.0, -3.0, 0.0]
    assert b.entry_prices.tolist() == [100_000.0, 0.0, 200.0, 0.0]
    c = Account.from_positions(market, perps={"BTC": 0.5}, entry_prices={"BTC": 90_000.0},
                               mode="isolated", isolated_margin={"BTC": 5_000.0})
    assert c.entry_prices[0] == 90_000.0
    assert c.isolated_margin.tolist() == [5_000.0, 0.0, 0.0, 0.0]
    assert c.mode == "isolated"


def test_replace_revalidates(market):
    a = Account.from_positions(market, holdings={"ETH": 1.0})
    b = a.replace(cash=100.0)
    assert b.cash == 100.0 and a.cash == 0.0
    with pytest.raises(MarginInputError, match=r"mode.*'both'"):
        a.replace(mode="both")
    assert a.mode == "cross"


# -- Book -------------------------------------------------------------------------------------

def test_from_accounts_and_back():
    accts = [Account([1.0, 0.0]),
             Account([0.0, 2.0], perps=[-1.0, 0.0], entry_prices=[50.0, 0.0], cash=-10.0,
                     mode="isolated", isolated_margin=[7.0, 0.0])]
    b = Book.from_accounts(accts)
    assert (b.n_accounts, b.n_assets) == (2, 2)
    assert b.mode.tolist() == ["cross", "isolated"]
    assert b.isolated.tolist() == [False, True]
    assert b.cash.tolist() == [0.0, -10.0]
    a1 = b.account(1)
    assert a1.mode == "isolated"
    assert a1.perps.tolist() == [-1.0, 0.0]
    assert a1.entry_prices.tolist() == [50.0, 0.0]
    assert a1.isolated_margin.tolist() == [7.0, 0.0]
    assert a1.cash == -10.0
    assert b.account(-2).holdings.tolist() == [1.0, 0.0]
    one = accts[1].to_book()
    assert one.n_accounts == 1 and one.mode.tolist() == ["isolated"]


def test_book_defaults_and_single_mode_string():
    b = Book(holdings=np.ones((3, 2)), mode="isolated")
    assert b.perps.shape == (3, 2) and not b.perps.any()
    assert b.cash.tolist() == [0.0, 0.0, 0.0]
    assert b.mode.tolist() == ["isolated"] * 3


def test_book_arrays_read_only_and_copied():
    h = np.ones((2, 2))
    b = Book(holdings=h, cash=[1.0, 2.0])
    h[0, 0] = 42.0
    assert b.holdings[0, 0] == 1.0
    for name in ("holdings", "perps", "entry_prices", "isolated_margin", "cash", "mode"):
        arr = getattr(b, name)
        assert arr.flags.writeable is False, name
    with pytest.raises(ValueError):
        b.holdings[0, 0] = 5.0
    with pytest.raises(ValueError):
        b.cash[0] = 5.0


def test_book_replace_bad_field_leaves_book_unchanged():
    b = Book(holdings=np.ones((2, 2)), cash=[1.0, 2.0])
    with pytest.raises(MarginInputError, match=r"cash.*\(2,\).*\(3,\)"):
        b.replace(cash=[1.0, 2.0, 3.0])
    assert b.cash.tolist() == [1.0, 2.0]
    b2 = b.replace(cash=[5.0, 6.0])
    assert b2.cash.tolist() == [5.0, 6.0] and b.cash.tolist() == [1.0, 2.0]


def test_check_market_column_mismatch(market):
    b = Book(holdings=np.ones((1, 3)))
    with pytest.raises(MarginInputError, match=r"book.*4.*BTC, ETH, SOL, USDC.*got 3 columns"):
        b.check_market(market)
    with pytest.raises(MarginInputError, match=r"book.*got 3 columns"):
        margin_report(b, market)


# -- Book.random ------------------------------------------------------------------------------

def test_random_is_reproducible(market):
    a = Book.random(market, 200, seed=11)
    b = Book.random(market, 200, seed=11)
    c = Book.random(market, 200, seed=12)
    for name in ("holdings", "perps", "entry_prices", "isolated_margin", "cash"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name))
    assert a.mode.tolist() == b.mode.tolist()
    assert not np.array_equal(a.holdings, c.holdings)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 7])
def test_random_book_starts_healthy_and_varied(market, seed):
    b = Book.random(market, 2_000, seed=seed)
    r = margin_report(b, market)
    assert not r.liquidatable.any()
    # The stablecoin is never a risky leg: no USDC holdings or perps.
    assert not b.holdings[:, 3].any() and not b.perps[:, 3].any()
    # Roughly 30 % isolated (default isolated_share), some perps, some quote debt, long bias.
    share = b.isolated.mean()
    assert 0.25 < share < 0.35
    assert (b.perps != 0).any(1).mean() > 0.5
    assert (b.cash < 0).any()
    assert (b.perps > 0).sum() > (b.perps < 0).sum()
    # isolated margin only on isolated accounts
    assert not b.isolated_margin[~b.isolated].any()
    assert (b.isolated_margin >= 0).all()


def test_random_knobs(market):
    b = Book.random(market, 300, seed=5, isolated_share=0.0)
    assert not b.isolated.any()
    b = Book.random(market, 300, seed=5, isolated_share=1.0, long_bias=1.0)
    assert b.isolated.all()
    assert (b.perps >= 0).all()


# -- bad input --------------------------------------------------------------------------------

@pytest.mark.parametrize("kw, pattern", [
    (dict(holdings=[1.0, float("nan")]), r"holdings\[0, 1\].*finite.*nan"),
    (dict(holdings=[1.0, 2.0], perps=[1.0, 0.0]), r"entry_prices.*required.*None"),
    (dict(holdings=[1.0, 2.0], perps=[1.0, 0.0], entry_prices=[0.0, 0.0]),
     r"entry_prices.*> 0.*got 0\.0"),
    (dict(holdings=[1.0, 2.0], perps=[1.0, 0.0], entry_prices=[-3.0, 0.0]),
     r"entry_prices.*got -3\.0"),
    (dict(holdings=[1.0, 2.0], mode="both"), r"mode.*'both'"),
    (dict(holdings=[1.0, 2.0], isolated_margin=[100.0, 0.0]),
     r"isolated_margin.*cross.*100\.0|isolated_margin.*100\.0.*cross"),
    (dict(holdings=[1.0, 2.0], mode="isolated", isolated_margin=[0.0, -5.0]),
     r"isolated_margin\[0, 1\].*-5\.0"),
    (dict(holdings=[1.0, 2.0], perps=[1.0, 2.0, 3.0], entry_prices=[1.0, 1.0, 1.0]),
     r"perps.*shape \(2,\).*\(3,\)"),
    (dict(holdings=[1.0, 2.0], cash=float("inf")), r"cash.*finite.*inf"),
    (dict(holdings=5.0), r"holdings.*shape"),
])
def test_bad_account(kw, pattern):
    with pytest.raises(MarginInputError, match=pattern) as info:
        Account(**kw)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("kw, pattern", [
    (dict(holdings=np.ones(3)), r"holdings.*\(n_accounts, n_assets\).*\(3,\)"),
    (dict(holdings=np.ones((2, 3)), perps=np.ones((3, 2))), r"perps.*\(2, 3\).*\(3, 2\)"),
    (dict(holdings=np.ones((2, 3)), mode=["cross"]), r"mode.*2 entries.*got 1"),
    (dict(holdings=np.ones((2, 3)), mode=["cross", "both"]), r"mode.*'both'"),
    (dict(holdings=np.ones((2, 3)), cash=[1.0]), r"cash.*\(2,\).*\(1,\)"),
])
def test_bad_book(kw, pattern):
    with pytest.raises(MarginInputError, match=pattern):
        Book(**kw)


def test_bad_from_accounts():
    with pytest.raises(MarginInputError, match=r"accounts.*\[\]"):
        Book.from_accounts([])
    with pytest.raises(MarginInputError, match=r"accounts.*same number of assets.*\[1, 2\]"):
        Book.from_accounts([Account([1.0]), Account([1.0, 2.0])])


def test_bad_account_index():
    b = Book(holdings=np.ones((2, 2)))
    with pytest.raises(MarginInputError, match=r"account index.*got 2"):
        b.account(2)


def test_unknown_asset_in_mapping(market):
    with pytest.raises(MarginInputError, match=r"holdings.*'DOGE'"):
        Account.from_positions(market, holdings={"DOGE": 1.0})
    with pytest.raises(MarginInputError, match=r"perps.*'DOGE'"):
        Account.from_positions(market, perps={"DOGE": 1.0})


@pytest.mark.parametrize("kw, pattern", [
    (dict(n_accounts=10**9), r"n_accounts.*got 1000000000"),
    (dict(n_accounts=0), r"n_accounts.*got 0"),
    (dict(n_accounts=2.5), r"n_accounts.*whole number.*2\.5"),
    (dict(n_accounts=10, isolated_share=1.5), r"isolated_share.*1\.5"),
    (dict(n_accounts=10, long_bias=-0.1), r"long_bias.*-0\.1"),
    (dict(n_accounts=10, median_equity=0.0), r"median_equity.*0\.0"),
    (dict(n_accounts=10, stable="DOGE"), r"'DOGE'"),
])
def test_bad_random(market, kw, pattern):
    with pytest.raises(MarginInputError, match=pattern):
        Book.random(market, seed=0, **kw)
