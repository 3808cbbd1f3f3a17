import numpy as np
import pytest

from widgets import PolicyFrontier
from widgets.engine import Book, MarginInputError, Market, cascade

M = Market.example()
SHOCK = {"BTC": -0.2, "ETH": -0.25, "SOL": -0.3}
N = 1_000


@pytest.fixture
def frontier():
    f = PolicyFrontier(shock=SHOCK, baseline=M, n_accounts=N)
    f.add("today", M)
    f.add("initial x2", M.replace(initial_margin=M.initial_margin * 2))
    f.add("maintenance x3", M.replace(maintenance_margin=M.maintenance_margin * 3,
                                      initial_margin=M.initial_margin * 1.5))
    return f


def test_points_equal_direct_cascades(frontier):
    base = (np.abs(Book.random(M, N, seed=0).perps) @ M.prices).sum()
    for p in frontier.points:
        policy = {"today": M, "initial x2": M.replace(initial_margin=M.initial_margin * 2),
                  "maintenance x3": M.replace(maintenance_margin=M.maintenance_margin * 3,
                                              initial_margin=M.initial_margin * 1.5)}[p["name"]]
        book = Book.random(policy, N, seed=0)
        res = cascade(book, policy, SHOCK)
        assert p["bad_debt"] == pytest.approx(res.bad_debt)
        assert p["fund_needed"] == pytest.approx(res.socialized_loss)
        assert p["capital_efficiency"] == pytest.approx(
            (np.abs(book.perps) @ policy.prices).sum() / base)
    data = frontier.chart_data()
    xs = np.concatenate([np.array(data.get(k, {}).get("x", []), float) for k in ("on", "off")])
    assert sorted(xs) == pytest.approx(sorted(p["capital_efficiency"] for p in frontier.points))


def test_frontier_and_labels(frontier):
    on = [p["name"] for p in frontier.points if p["on_frontier"]]
    assert set(frontier.frontier) == set(on)
    x = np.array(frontier.chart_data()["line"]["x"], float)
    assert np.all(np.diff(x) >= 0)                                # drawn left to right
    # labels: one per point, boxes apart and inside the assumed minimum plot (460 x 250 px)
    placed = frontier.point_labels
    assert [t for t, *_ in placed] == ["today", "initial x2", "maintenance x3"]
    boxes = [b for *_, b in placed]
    for i, a in enumerate(boxes):
        assert 0 <= a[0] and a[2] <= 460 and 0 <= a[1] and a[3] <= 250
        for b in boxes[:i]:
            assert not (a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3])
    fig = frontier.figures["frontier"]
    shown = [t for m in fig.marks if getattr(m, "text", None) is not None for t in m.text]
    assert sorted(shown) == sorted(["today", "initial x2", "maintenance x3"])
    assert frontier.summary.startswith("3 policies scored. Frontier, from least to most trading "
                                       "kept: initial x2")


def test_same_name_replaces_and_remove(frontier):
    frontier.add("today", M.replace(initial_margin=M.initial_margin * 3))
    assert [p["name"] for p in frontier.points].count("today") == 1
    # calm book (median leverage 0.2x): tripled initial margins bind on the levered few only
    assert frontier.points[0]["capital_efficiency"] < 0.8
    frontier.remove("today")
    assert len(frontier.points) == 2


def test_bad_policy_is_a_message(frontier):
    before = (frontier.points, frontier.summary)
    assert frontier.add("x", "not a policy") is None
    assert "policy must be a Market" in frontier.problem
    assert (frontier.points, frontier.summary) == before
    assert frontier.add("two assets", Market(["A", "B"], [1.0, 1.0])) is None
    assert "baseline's assets" in frontier.problem
    frontier.add("ok", M)
    assert frontier.problem == ""


def test_empty_frontier_and_labels_do_not_collide_when_points_coincide():
    f = PolicyFrontier(shock=SHOCK, baseline=M, n_accounts=N)
    assert f.points == [] and f.summary.startswith("No policy scored yet")
    s = f.add("a", M)
    f.add("b (same rules)", s)
    (_, x0, y0, _, b0), (_, x1, y1, _, b1) = f.point_labels
    assert (x0, y0) != (x1, y1)
    assert not (b0[0] < b1[2] and b1[0] < b0[2] and b0[1] < b1[3] and b1[1] < b0[3])


def test_new_shock_rescores_every_policy(frontier):
    before = {p["name"]: p["bad_debt"] for p in frontier.points}
    frontier.shock = {"BTC": -0.3, "ETH": -0.35, "SOL": -0.4}
    after = {p["name"]: p["bad_debt"] for p in frontier.points}
    assert after.keys() == before.keys() and all(after[n] > before[n] for n in after)
    res = cascade(Book.random(M, N, seed=0), M, frontier.shock)
    assert after["today"] == pytest.approx(res.bad_debt)
    for bad, words in (({"BTC": -1.5}, "shock[BTC] must be in (-1.0"),
                       ({"DOGE": -0.1}, "shock keys must be one of"),
                       ({"BTC": float("nan")}, "shock[BTC] must be finite"),
                       ("-30%", "shock"), (None, "shock"), ({"BTC": 1e308}, "overflowed")):
        frontier.shock = bad
        assert words in frontier.problem and len(frontier.problem) <= 300, frontier.problem
        assert frontier.shock["BTC"] == -0.3
        assert {p["name"]: p["bad_debt"] for p in frontier.points} == after


def test_ticks_are_round_and_cover_the_domain(frontier):
    x_axis, y_axis = frontier.figures["frontier"].axes
    x_ticks = np.array(x_axis.tick_values, float)
    y_ticks = np.array(y_axis.tick_values, float)
    for ticks, lo, hi in ((x_ticks, x_axis.scale.min, x_axis.scale.max),
                          (y_ticks, y_axis.scale.min, y_axis.scale.max)):
        step = np.diff(ticks)
        assert len(ticks) >= 3 and np.allclose(step, step[0])
        assert ticks[0] >= lo - 1e-9 and ticks[-1] <= hi + 1e-9
        mantissa = step[0] / 10 ** np.floor(np.log10(step[0]))
        assert any(np.isclose(mantissa, m) for m in (1, 2, 2.5, 5))


def test_overheated_preset_scores_the_overheated_book():
    f = PolicyFrontier(shock=SHOCK, baseline=M, n_accounts=N, preset="overheated")
    tight = M.replace(initial_margin=M.initial_margin * 3)
    s = f.add("initial x3", tight)
    book = Book.random(tight, N, seed=0, preset="overheated")
    base = (np.abs(Book.random(M, N, seed=0, preset="overheated").perps) @ M.prices).sum()
    assert s.capital_efficiency == pytest.approx((np.abs(book.perps) @ M.prices).sum() / base)
    assert s.bad_debt == pytest.approx(cascade(book, tight, SHOCK).bad_debt)
    calm = PolicyFrontier(shock=SHOCK, baseline=M, n_accounts=N).add("initial x3", tight)
    assert s.bad_debt > 5 * calm.bad_debt            # more accounts near their limits


def test_default_crisis_and_constructor_policy():
    """Default: -25 % on every volatile asset, the stablecoin at its peg (the engine's
    volatile_shock); a refused shock leaves that default and says so."""
    from widgets.engine import volatile_shock
    f = PolicyFrontier(baseline=M, n_accounts=N)
    assert f.shock == volatile_shock(M, -0.25) == {"BTC": -0.25, "ETH": -0.25, "SOL": -0.25,
                                                   "USDC": 0.0}
    assert f.get_state_dict() == {"shock": f.shock} and f.problem == ""
    bad = PolicyFrontier(baseline=M, n_accounts=N, shock={"BTC": "crash"})
    assert bad.shock == f.shock and "shock must be numbers" in bad.problem
    assert len(bad.problem) <= 300
    with pytest.raises(MarginInputError, match="n_accounts must be"):   # not an input
        PolicyFrontier(baseline=M, n_accounts=-5)


def test_save_restore_round_trip(frontier):
    import json
    frontier.shock = {"BTC": -0.3, "ETH": -0.3, "SOL": -0.3}
    saved = json.loads(json.dumps(frontier.get_state_dict()))
    other = PolicyFrontier(baseline=M, n_accounts=N)
    assert other.set_state_dict(saved) and other.shock == frontier.shock
    assert not other.set_state_dict({"shock": {"BTC": -2.0}})
    assert other.shock == frontier.shock and other.problem
