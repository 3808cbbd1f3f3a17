"""PolicyFrontier: crisis bad debt against capital efficiency, one point per policy (lesson 8)."""
from __future__ import annotations

import numpy as np
import traitlets as T
from bqplot import Lines, Scatter

from . import _labels, _ui
from .engine import (CASCADE_DEPTH, Book, MarginInputError, Market, PolicyScore, deeper,
                     dominated_by, pareto_front, perp_notional, score_policy, shock_vector,
                     volatile_shock)

_PLOT_W, _PLOT_H = 460.0, 250.0          # assumed minimum plot area in px (label placement)
MAX_LABEL = 22                           # characters of a policy's name shown on the chart
CRISIS_MOVE = -0.25                      # the default crisis: -25 % on every volatile asset


def _short(name: str) -> str:
    return name if len(name) <= MAX_LABEL else name[:MAX_LABEL - 1] + "…"


def origin_free(x_ticks, x_dom, y_ticks, y_dom) -> np.ndarray:
    """``x_ticks`` without the one at the plot's bottom-left corner when the y axis also has a
    tick there: the x label ("0%") would be drawn over the y label ("0") at the origin.

    >>> origin_free(np.array([0.0, 0.5, 1.0]), (0.0, 1.1), np.array([0.0, 5.0]), (0.0, 6.0))
    array([0.5, 1. ])
    >>> origin_free(np.array([0.0, 0.5]), (0.0, 1.1), np.array([5.0, 10.0]), (4.0, 12.0))
    array([0. , 0.5])
    """
    x_ticks, y_ticks = np.asarray(x_ticks, dtype=float), np.asarray(y_ticks, dtype=float)
    tol_x, tol_y = 1e-9 * (x_dom[1] - x_dom[0]), 1e-9 * (y_dom[1] - y_dom[0])
    if np.any(np.abs(y_ticks - y_dom[0]) <= tol_y):
        return x_ticks[np.abs(x_ticks - x_dom[0]) > tol_x]
    return x_ticks


class PolicyFrontier(_ui.Component):
    """Every policy the learner scored, as a point: capital efficiency (x) vs crisis bad debt (y).

    :meth:`add` scores a policy with :func:`~widgets.engine.score_policy` (the same traders
    rebuilt under the policy, then the crisis cascade) and adds its point; adding a name again
    replaces that point. The *frontier* joins the policies no other policy beats on both axes
    (:func:`~widgets.engine.pareto_front`): more trading kept for the same bad debt, or less bad
    debt for the same trading. Professional risk teams trade off the same two axes (Gauntlet:
    insolvencies against capital efficiency).

    Parameters
    ----------
    baseline : Market, default ``Market.example()`` with 30x depth
        Today's rules: capital efficiency is a policy's perp notional over the notional of
        ``Book.random(baseline, n_accounts, seed, preset=preset)``.
    n_accounts, seed : int, default 10,000 and 0
        The book (the same traders for every policy).
    preset : str, default "calm"
        The book's :meth:`Book.random` calibration (``"calm"``, the venue default, or
        ``"overheated"``: more accounts near their limits, so tighter margins cost more trading
        and save more bad debt).
    **traits
        Initial ``shock`` (keyword): the crisis every policy is scored in (``{asset: move}``,
        as ``ShockPanel.shock``), default -25 % on every volatile asset
        (:func:`~widgets.engine.volatile_shock`). A refused value leaves the default and names
        it in ``problem`` (the constructor policy of :class:`~widgets._ui.Component`).

    Attributes
    ----------
    shock : dict
        The crisis, ``{asset: fractional price move > -1}`` (input); a new one scores every
        policy again.
    points : list of dict
        One per policy (output): ``name``, ``bad_debt``, ``fund_needed``, ``n_liquidated``,
        ``capital_efficiency``, ``on_frontier``.
    frontier : list of str
        Names of the policies on the frontier, by capital efficiency (output).
    problem, summary : str
        See :class:`~widgets._ui.Component`.

    Notes
    -----
    :attr:`figures` holds ``"frontier"``; :meth:`chart_data` the marks ``"line"`` (the
    frontier), ``"on"`` (points on it) and ``"off"`` (beaten points); :attr:`point_labels`
    where the policies' names were placed.

    Examples
    --------
    >>> m = Market.example()
    >>> f = PolicyFrontier(baseline=m, n_accounts=500, shock={"BTC": -0.2, "ETH": -0.2})
    >>> s = f.add("today", m)
    >>> _ = f.add("initial x2", m.replace(initial_margin=m.initial_margin * 2))
    >>> [p["name"] for p in f.points], f.points[0]["capital_efficiency"]
    (['today', 'initial x2'], 1.0)
    """

    shock = T.Dict(help="{asset: fractional price move}: the crisis every policy is scored in.")
    points = T.List(read_only=True, help="One dict per scored policy (name, bad debt, ...).")
    frontier = T.List(read_only=True, help="Names of the policies on the frontier.")
    _state_traits = ("shock",)

    def __init__(self, *, baseline: Market | None = None, n_accounts: int = 10_000,
                 seed: int = 0, preset: str = "calm", **kwargs):
        given = {k: kwargs.pop(k) for k in self._state_traits if k in kwargs}
        if baseline is None:
            baseline = deeper(Market.example(), CASCADE_DEPTH)
        self._baseline, self._n, self._seed, self._preset = baseline, n_accounts, seed, preset
        # the book validates n_accounts, seed and preset (not inputs: a bad one raises)
        self._base_notional = perp_notional(
            Book.random(baseline, n_accounts, seed=seed, preset=preset), baseline)
        self._scores: dict[str, PolicyScore] = {}
        self._policies: dict[str, Market | None] = {}
        self._build()
        super().__init__(children=[self._problem_box, self._summary_box, self._fig,
                                   self._legend], **kwargs)
        with self._silently():
            self.shock = volatile_shock(baseline, CRISIS_MOVE)
        self._show()
        self.observe(self._on_input, names="shock")
        self._apply_inputs(given)

    def _compute(self) -> None:
        """A new crisis: check it, then score every policy again (a ready PolicyScore cannot be
        re-scored and is dropped)."""
        shock_vector(self._baseline, self.shock)
        self._scores = {n: score_policy(p, self.shock, self._base_notional, self._n,
                                        self._seed, self._preset)
                        for n, p in self._policies.items() if p is not None}
        self._policies = {n: p for n, p in self._policies.items() if p is not None}

    @property
    def point_labels(self) -> list:
        """Where the policies' names were placed: ``(text, x, y, align, box)`` each, ``box`` in
        pixels of the assumed minimum plot (:func:`widgets._labels.place_labels`)."""
        return list(self._labels.placed)

    def _build(self) -> None:
        self._x, self._y = _ui.fixed_scale(0.0, 1.1), _ui.fixed_scale(0.0, 1.0)
        sc = {"x": self._x, "y": self._y}
        self._line = Lines(x=[], y=[], colors=[_ui.CROSS], scales=sc, stroke_width=2,
                           line_style="dashed")
        self._on = Scatter(x=[], y=[], colors=[_ui.CROSS], scales=sc, default_size=90,
                           marker="circle", stroke="var(--jp-layout-color0)")
        self._off = Scatter(x=[], y=[], colors=[_ui.NEUTRAL], scales=sc, default_size=70,
                            marker="square")
        self._labels = _labels.LabelSet(sc)
        self._fig = _ui.figure("Policies: crisis bad debt vs trading kept", self._x, self._y,
                               [self._line, self._off, self._on, *self._labels.marks],
                               "capital efficiency: perp notional kept (share of today's)",
                               "crisis bad debt ($M)", height="340px", x_format=".0%",
                               y_format=",.0f")
        self._expose(figures={"frontier": self._fig},
                     marks={"line": self._line, "on": self._on, "off": self._off})
        self._legend = _ui.legend([(_ui.CROSS, "on the frontier (nothing beats it on both axes)",
                                    "dot"), (_ui.NEUTRAL, "beaten by another policy", "bar"),
                                   (_ui.CROSS, "the frontier", "dashed")])

    # -- API ------------------------------------------------------------------------------
    @property
    def scores(self) -> dict:
        """The :class:`~widgets.engine.PolicyScore` of every policy, by name."""
        return dict(self._scores)

    def add(self, name: str, policy) -> PolicyScore | None:
        """Score ``policy`` (a Market, or a ready :class:`PolicyScore`) and add it as ``name``.

        Returns the score, or None when the policy was refused (the message is shown in the
        widget, the chart keeps its points).
        """
        out = []

        def action():
            if not isinstance(name, str) or not name.strip():
                raise MarginInputError(f"name must be a non-empty string, got "
                                       f"{_ui.short_repr(name)}")
            if isinstance(policy, PolicyScore):
                score = policy
            elif isinstance(policy, Market):
                if policy.assets != self._baseline.assets:
                    raise MarginInputError(f"policy must have the baseline's assets "
                                           f"{_ui.short_repr(list(self._baseline.assets))}, "
                                           f"got {_ui.short_repr(list(policy.assets))}")
                score = score_policy(policy, self.shock, self._base_notional, self._n,
                                     self._seed, self._preset)
            else:
                raise MarginInputError(f"policy must be a Market or a PolicyScore, got "
                                       f"{type(policy).__name__}")
            self._scores[name] = score
            self._policies[name] = policy if isinstance(policy, Market) else None
            out.append(score)

        if self._guard(action):
            self._show()
            return out[0]
        return None

    def remove(self, name: str) -> None:
        """Drop a policy's point (no error if it is not there)."""
        self._policies.pop(name, None)
        if self._scores.pop(name, None) is not None:
            self._show()

    def clear(self) -> None:
        """Drop every policy's point."""
        self._scores.clear()
        self._policies.clear()
        self._show()

    # -- view -----------------------------------------------------------------------------
    def _show(self) -> None:
        names = list(self._scores)
        eff = np.array([self._scores[n].capital_efficiency for n in names])
        bad = np.array([self._scores[n].bad_debt for n in names]) / 1e6
        front = pareto_front(eff, bad) if names else np.zeros(0, dtype=bool)
        x_dom = _ui.nice_domain(eff, include=(0.0, 1.0), pad=0.05)
        y_dom = _ui.nice_domain(bad, include=(0.0,), pad=0.12)
        texts = [_short(n) for n in names]
        fi = np.flatnonzero(front)
        fi = fi[np.argsort(eff[fi], kind="stable")]
        # Round ticks on the fitted domains (bqplot's num_ticks would split them unevenly),
        # labelled with as many decimals as their step needs.
        ticks = [np.arange(np.ceil(lo / step - 1e-9), np.floor(hi / step + 1e-9) + 1) * step
                 for lo, hi in (x_dom, y_dom) for step in [_ui.nice_step(hi - lo, 6)]]
        ticks[0] = origin_free(ticks[0], x_dom, ticks[1], y_dom)
        for axis, values in zip(self._fig.axes, ticks):
            _ui.set_ticks(axis, values)
        with self._x.hold_sync():
            self._x.min, self._x.max = x_dom
        with self._y.hold_sync():
            self._y.min, self._y.max = y_dom
        with self._line.hold_sync():
            self._line.x, self._line.y = eff[fi], bad[fi]
        with self._on.hold_sync():
            self._on.x, self._on.y = eff[front], bad[front]
        with self._off.hold_sync():
            self._off.x, self._off.y = eff[~front], bad[~front]
        self._labels.update(eff, bad, texts, x_dom, y_dom, _PLOT_W, _PLOT_H)
        self.set_trait("points", [
            {"name": n, "bad_debt": self._scores[n].bad_debt,
             "fund_needed": self._scores[n].fund_needed,
             "n_liquidated": self._scores[n].n_liquidated,
             "capital_efficiency": self._scores[n].capital_efficiency,
             "on_frontier": bool(front[i])} for i, n in enumerate(names)])
        self.set_trait("frontier", [names[i] for i in fi])
        self._set_summary(self._describe(names, eff, bad, front, fi))

    def _describe(self, names, eff, bad, front, fi) -> str:
        if not names:
            return ("No policy scored yet: call add(name, policy) to put a point on the chart "
                    "(x: perp notional kept, y: crisis bad debt).")
        pts = "; ".join(f"{names[i]} ({eff[i]:.0%} kept, ${bad[i]:,.1f}M bad debt)"
                        for i in fi)
        text = (f"{len(names)} polic{'y' if len(names) == 1 else 'ies'} scored. Frontier, from "
                f"least to most trading kept: {pts}.")
        beaten = []
        by = dominated_by(eff, bad)
        for i in np.flatnonzero(~front):
            beaten.append(f"{names[i]} (beaten by {names[by[i]]})" if by[i] >= 0 else names[i])
        if beaten:
            text += " Beaten on both axes: " + "; ".join(beaten) + "."
        return text
