import numpy as np
import pytest

from widgets import LiquidationTable
from widgets.engine import Account, Book, Market, liquidate

ETH = Market(["ETH"], [2_000.0], asset_weight=0.825, liquidation_penalty=0.05)
ACCT = Account([10.0], cash=-17_000.0)


def test_rows_are_the_result_fields():
    res = liquidate(ACCT, ETH, close_factor=0.5)
    t = LiquidationTable(res, book=ACCT)
    assert t.problem == "" and t.n_liquidated == 1 and len(t.rows) == len(res.events) == 1
    row, ev = t.rows[0], res.events[0]
    assert row["close_fraction"] == ev.close_fraction == 0.5
    assert row["notional_closed"] == ev.notional_closed
    # penalty on the debt (the venue default): 5 % of the 8,500 closed (half of 17,000) = 425
    assert row["penalty"] == ev.penalty == pytest.approx(425.0)
    assert row["equity_before"] == res.equity_before[0] == pytest.approx(3_000.0)
    assert row["equity_after"] == res.equity_after[0] == pytest.approx(2_575.0)
    # 5 ETH sold for 10,000; 425 penalty; 9,575 of the 17,000 debt repaid
    assert row["closed"] == "sold 5 ETH; repaid 9,575 USD of debt"
    for text in ("sold 5 ETH", "$10,000", "$425", "$3,000", "$2,575", "<caption"):
        assert text in t.table_html
    assert t.summary.startswith("1 account liquidated. account 0: 50% of its cross pool closed "
                                "(sold 5 ETH; repaid 9,575 USD of debt), penalty $425, equity "
                                "$3,000 → $2,575")


def test_bad_debt_and_who_pays():
    res = liquidate(ACCT, ETH, prices=[1_500.0], insurance_fund=1_500.0)
    t = LiquidationTable(res, names=["borrower"])
    assert t.rows[0]["bad_debt"] == pytest.approx(2_000.0) and t.rows[0]["name"] == "borrower"
    assert res.fund_payout == pytest.approx(1_500.0)
    assert "paid by the fund $1,500, socialized $500" in t.table_html
    assert t.summary.endswith("Bad debt $2,000: the fund paid $1,500, $500 socialized.")


def test_isolated_bucket_and_several_accounts():
    m = Market.example()
    book = Book.from_accounts([
        Account.from_positions(m, holdings={"ETH": 10}, cash=-30_000),
        Account.from_positions(m, perps={"BTC": 1.0}, cash=1_300.0)])
    res = liquidate(book, m, prices=m.prices * np.array([0.8, 0.8, 1, 1]), close_factor=0.5)
    t = LiquidationTable(res, book=book, names=["spot", "perp"])
    parts = [(r["name"], r["part"]) for r in t.rows]
    assert parts == [(e_name, e.part) for e_name, e in
                     zip(["spot" if e.account == 0 else "perp" for e in res.events], res.events)]
    assert any("perp long" in r["closed"] for r in t.rows if r["name"] == "perp")


def test_nothing_liquidated_and_empty():
    t = LiquidationTable(liquidate(Account([10.0], cash=-1_000.0), ETH))
    assert t.rows == [] and t.summary.startswith("Nothing was liquidated")
    assert LiquidationTable().summary == "No liquidation to show yet."


def test_bad_input_is_a_message_and_keeps_the_table():
    res = liquidate(ACCT, ETH)
    t = LiquidationTable(res, book=ACCT)
    before = (t.table_html, t.summary, t.rows)
    t.names = ["a", "b"]                                   # one account, two names
    assert "names must give one name per account (1), got 2" in t.problem
    assert (t.table_html, t.summary, t.rows) == before and t.names == []
    t.book = Book.from_accounts([ACCT, ACCT])
    assert "book must be the book passed to liquidate" in t.problem
    t.result = liquidate(ACCT, ETH, close_factor=0.5)
    assert t.problem == "" and t.rows[0]["close_fraction"] == 0.5


def test_penalty_split_and_who_is_deleveraged():
    from widgets.engine import LiquidationRules
    res = liquidate(ACCT, ETH, rules=LiquidationRules.aave())
    # Aave: repay 8,500, bonus 5 % = 425, of which 10 % (42.50) to the protocol's fund
    assert float(res.liquidator_bonus.sum()) == pytest.approx(382.5)
    t = LiquidationTable(res, book=ACCT)
    assert "Penalties $425: $382 to liquidators, $42 to the fund" in t.table_html
    abc = Market(["ABC"], [1.0], asset_weight=0.0, liability_weight=1.0,      # perp only
                 maintenance_margin=0.03, initial_margin=0.05, liquidation_penalty=0.015)
    book = Book.from_accounts([Account([0.0], perps=[500.0], entry_prices=[1.0], cash=100.0),
                               Account([0.0], perps=[-500.0], entry_prices=[1.0], cash=100.0)])
    res = liquidate(book, abc, prices=[2.0])
    t = LiquidationTable(res, book=book, names=["A long", "B short"])
    assert [r["name"] for r in t.rows] == ["B short"]
    assert res.socialized_by_account[0] == pytest.approx(400.0)
    assert "socialized $400 (A long gives up $400)" in t.table_html
    assert "closed 500 ABC perp short" in t.rows[0]["closed"]


def test_names_and_title_hold_any_value_a_cell_assigns():
    """The bad-input harness on the table's typed inputs (cell and constructor)."""
    from tests.widgets.hostile import findings

    def factory(**k):
        return LiquidationTable(liquidate(ACCT, ETH), book=ACCT, **k)

    found = findings(factory, "names")[1] + findings(factory, "title")[1]
    assert not found, "\n".join(found)


def test_constructor_policy_and_an_account_as_the_book():
    res = liquidate(ACCT, ETH)
    t = LiquidationTable(res, book=ACCT, names=["a", "b"])     # bad value: built, message
    assert "names must give one name per account (1), got 2" in t.problem
    assert t.names == [] and t.rows[0]["name"] == "account 0"
    t.book = None
    assert t.rows[0]["closed"] == "" and t.problem == ""
    t.book = ACCT                                              # an Account: a one-row book
    assert isinstance(t.book, Book) and t.rows[0]["closed"].startswith("sold")
    t = LiquidationTable("not a result")                       # a trait: held as a message
    assert "result must be a LiquidationResult" in t.problem and t.rows == []
