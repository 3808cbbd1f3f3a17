"""fund_coverage: replaying a cascade's settlement for many fund sizes equals running it again."""
from __future__ import annotations

import numpy as np
import pytest

from widgets.engine import (Account, Book, MarginInputError, Market, cascade, fund_coverage)

# Known answers computed with the original rule and impact scale (see conftest.py).
pytestmark = pytest.mark.usefixtures("legacy_engine_defaults")


def small_case():
    # Debts 105 and 76.5 fail at X = 95 (round 1: bad debt 105 - 95 = 10, penalty 5 % x 95 =
    # 4.75); their 2 units sold at depth 2,000 move X to 95 x (1 - 200/2,000) = 85.5, failing the
    # third account in round 2 (penalty 5 % x 85.5 = 4.275).
    m = Market(["X"], [100.0], asset_weight=0.8, liquidation_penalty=0.05, depth=2_000.0)
    b = Book.from_accounts([Account([1.0], cash=-d) for d in (105.0, 76.5, 70.0)])
    return b, m


def test_known_answer_late_penalties_do_not_pay_earlier_bad_debt():
    b, m = small_case()
    res = cascade(b, m, shock=-0.05)
    np.testing.assert_allclose(res.bad_debt_by_round, [10.0, 0.0])
    np.testing.assert_allclose(res.penalty_by_round, [4.75, 4.275])
    cov = fund_coverage(res, [0.0, 3.0, 10.0, 50.0])
    # fund 0: round 1 pays min(0 + 4.75, 10) = 4.75; the 4.275 of round 2 arrives too late.
    np.testing.assert_allclose(cov.covered, [4.75, 7.75, 10.0, 10.0])
    np.testing.assert_allclose(cov.socialized, [5.25, 2.25, 0.0, 0.0])
    # fund 10: 10 + 4.75 - 10 + 4.275 = 9.025 left
    np.testing.assert_allclose(cov.fund_after, [4.275, 4.275, 9.025, 49.025])
    assert cov.bad_debt == 10.0 and cov.penalties == pytest.approx(9.025)


@pytest.mark.parametrize("shock, depth_mult, cf", [(-0.05, 30, 1.0), (-0.1, 10, 0.5),
                                                    (-0.2, 100, 1.0)])
def test_equals_direct_cascades_at_every_fund(shock, depth_mult, cf):
    m = Market.example()
    m = m.replace(depth=m.depth * depth_mult)
    b = Book.random(m, 2_000, seed=3)
    sv = {"BTC": shock, "ETH": shock, "SOL": shock}
    base = cascade(b, m, sv, close_factor=cf)
    assert base.bad_debt > 0
    funds = np.array([0.0, 0.1, 0.5, 1.0, 3.0]) * base.bad_debt
    cov = fund_coverage(base, funds)
    np.testing.assert_allclose(cov.covered + cov.socialized, base.bad_debt, rtol=1e-12)
    for i, f in enumerate(funds):
        direct = cascade(b, m, sv, close_factor=cf, insurance_fund=f)
        # the fund changes nothing about who fails or what is written off ...
        np.testing.assert_array_equal(direct.first_round, base.first_round)
        np.testing.assert_array_equal(direct.bad_debt_by_round, base.bad_debt_by_round)
        # ... only who pays
        assert cov.socialized[i] == pytest.approx(direct.socialized_loss, abs=1e-6)
        assert cov.fund_after[i] == pytest.approx(direct.insurance_fund_by_round[-1], abs=1e-6)
    assert np.all(np.diff(cov.socialized) <= 1e-9)          # more fund, never more socialized


def test_ignores_the_fund_the_cascade_was_run_with():
    b, m = small_case()
    a = fund_coverage(cascade(b, m, shock=-0.05, insurance_fund=0.0), 3.0)
    c = fund_coverage(cascade(b, m, shock=-0.05, insurance_fund=7.0), 3.0)
    assert a.covered.tolist() == c.covered.tolist() == [7.75]
    assert a.insurance_fund.shape == (1,)


def test_no_bad_debt_means_nothing_to_cover():
    m = small_case()[1]
    b = Book.from_accounts([Account([1.0], cash=-d) for d in (76.5, 70.0)])
    cov = fund_coverage(cascade(b, m, shock=-0.05), [0.0, 5.0])      # fails, but solvent
    assert cov.bad_debt == 0.0 and cov.covered.tolist() == [0.0, 0.0]
    assert cov.socialized.tolist() == [0.0, 0.0] and cov.penalties > 0


@pytest.mark.parametrize("fund, match", [(-1.0, r"insurance_fund must be in \[0.0, inf\), "
                                                r"got -1.0"),
                                         ([1.0, -2.0], r"insurance_fund\[1\]"),
                                         (float("nan"), "insurance_fund must be finite, got nan"),
                                         ([[1.0]], "1-D"), ("x", "numbers")])
def test_bad_fund(fund, match):
    b, m = small_case()
    res = cascade(b, m, shock=-0.05)
    with pytest.raises(MarginInputError, match=match):
        fund_coverage(res, fund)


def test_bad_result():
    with pytest.raises(MarginInputError, match="CascadeResult"):
        fund_coverage({"bad_debt_by_round": [1.0]}, 0.0)
