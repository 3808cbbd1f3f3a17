"""Scalar reference implementation of the margin engine: the differential-test oracle.

Everything here is written from the *rules* in the engine's module docstrings
(``widgets/engine/margin.py``, ``liquidation.py``, ``cascade.py``), one account and one asset
at a time, with plain Python floats and ``for`` loops. It deliberately shares no code with the
vectorized engine: the engine is only used to *read* inputs (``Market`` and ``Book`` fields).
If the two disagree, one of them does not follow the docstring.

Public functions
----------------
* :func:`reference_report` -- margin report per account (dict of lists).
* :func:`reference_liquidate` -- one liquidation call (new positions, penalties, bad debt, fund).
* :func:`reference_cascade` -- shock, then liquidate / move prices round after round.

Liquidation results also carry ``closest_to_boundary``: the smallest ``|health|`` of any
non-empty pool or bucket the liquidation decision looked at, the smallest ``|equity|`` of a
failing one (which decides partial vs full close), and the smallest ``|margin|`` left in a
partially closed bucket (below 0 its open profit is settled into it). When it is at rounding-noise level, the
decision is a coin toss between two correct float implementations, and a differential test must
not insist on agreement.

Conventions (from the engine docstrings): money in the quote currency; ``units_sold > 0`` means
sold into the market, ``< 0`` bought back; an account is liquidatable when its pool or any
isolated bucket has ``health < 0`` (strict).

Used by ``tests/engine/test_differential.py``, ``test_rules_differential.py`` and the cascade
benchmark (``from tests.support.reference import reference_cascade``); 10**5 accounts take seconds to tens of
seconds per cascade, which is the point of the comparison.
"""
from __future__ import annotations

import math

INF = math.inf
IMPACT_FLOOR = 0.01  # linear and sqrt impact: price never below 1 % of the shocked price
IMPACT_CAP = 100.0          # ... and at most 100x it


# --------------------------------------------------------------------------------------------
# Plain-Python copies of the inputs
# --------------------------------------------------------------------------------------------
class Rules:
    """The market's per-asset parameters as plain lists (read once from a ``Market``)."""

    def __init__(self, market):
        self.assets = list(market.assets)
        self.n = len(self.assets)
        self.prices = [float(x) for x in market.prices]          # reference (pre-shock) prices
        self.asset_weight = [float(x) for x in market.asset_weight]
        self.liability_weight = [float(x) for x in market.liability_weight]
        self.maintenance_margin = [float(x) for x in market.maintenance_margin]
        self.initial_margin = [float(x) for x in market.initial_margin]
        self.init_asset_weight = [float(x) for x in market.init_asset_weight]
        self.init_liability_weight = [float(x) for x in market.init_liability_weight]
        # Bracket tables, read as published (floors, rates, amounts), one list per asset.
        self.brackets = [market.bracket_table(a) for a in self.assets]
        self.penalty = [float(x) for x in market.liquidation_penalty]
        self.volatility = [float(x) for x in market.volatility]
        self.depth = [float(x) for x in market.depth]

    def bracket(self, i, notional):
        """The bracket of ``notional``: the last one whose floor it reaches (a loop)."""
        k = 0
        for b, floor in enumerate(self.brackets[i]["floor"]):
            if notional >= floor:
                k = b
        return k

    def maintenance(self, i, notional):
        """``N x maintenance[k] - amount[k]`` for the bracket k of ``notional``."""
        t = self.brackets[i]
        if len(t["floor"]) == 1:
            return notional * self.maintenance_margin[i]
        k = self.bracket(i, notional)
        return notional * t["maintenance"][k] - t["amount"][k]

    def initial(self, i, notional):
        """``N x initial[k]`` for the bracket k of ``notional``."""
        t = self.brackets[i]
        if len(t["floor"]) == 1:
            return notional * self.initial_margin[i]
        return notional * t["initial"][self.bracket(i, notional)]


class Acct:
    """One account as mutable Python lists: what the liquidation rule changes."""

    __slots__ = ("holdings", "perps", "entry", "margin", "cash", "isolated")

    def __init__(self, holdings, perps, entry, margin, cash, isolated):
        self.holdings = holdings
        self.perps = perps
        self.entry = entry
        self.margin = margin
        self.cash = cash
        self.isolated = isolated


def read_accounts(book):
    """The book's rows as a list of :class:`Acct` (copies; the book is not touched)."""
    H = book.holdings.tolist()
    Q = book.perps.tolist()
    E = book.entry_prices.tolist()
    M = book.isolated_margin.tolist()
    C = book.cash.tolist()
    modes = [str(m) for m in book.mode.tolist()]
    return [Acct(H[a], Q[a], E[a], M[a], C[a], modes[a] == "isolated") for a in range(len(H))]


def _prices(rules, prices):
    if prices is None:
        return list(rules.prices)
    return [float(x) for x in prices]


# --------------------------------------------------------------------------------------------
# Margin: the formulas of margin.py's module docstring
# --------------------------------------------------------------------------------------------
def pool_sums(acct, rules, P):
    """Sums over the account's pool: holdings and cash always; the perps only in cross mode.

    Returns (weighted_collateral, weighted_liabilities, perp_pnl, maintenance, initial, value),
    where ``value`` is the unweighted mark value of holdings and cash.
    """
    wc = wl = pnl = mm = im = value = 0.0
    for i in range(rules.n):
        h = acct.holdings[i]
        if h > 0:
            wc += h * P[i] * rules.asset_weight[i]
        elif h < 0:
            wl += -h * P[i] * rules.liability_weight[i]
        value += h * P[i]
        if not acct.isolated:
            q = acct.perps[i]
            if q != 0:
                pnl += q * (P[i] - acct.entry[i])
                mm += rules.maintenance(i, abs(q) * P[i])
                im += rules.initial(i, abs(q) * P[i])
    if acct.cash > 0:
        wc += acct.cash
    else:
        wl += -acct.cash
    value += acct.cash
    return wc, wl, pnl, mm, im, value


def init_weighted(acct, rules, P):
    """(collateral, liabilities) of the pool's holdings and cash at the *init* weights."""
    iwc = iwl = 0.0
    for i in range(rules.n):
        h = acct.holdings[i]
        if h > 0:
            iwc += h * P[i] * rules.init_asset_weight[i]
        elif h < 0:
            iwl += -h * P[i] * rules.init_liability_weight[i]
    if acct.cash > 0:
        iwc += acct.cash
    else:
        iwl += -acct.cash
    return iwc, iwl


def bucket_numbers(acct, rules, P, i):
    """(equity, requirement) of the isolated bucket of asset ``i``: margin + uPnL vs MM."""
    q = acct.perps[i]
    equity = acct.margin[i] + q * (P[i] - acct.entry[i])
    requirement = rules.maintenance(i, abs(q) * P[i])
    return equity, requirement


def has_bucket(acct, i):
    return acct.isolated and acct.perps[i] != 0


def account_equity(acct, P):
    """Holdings + cash + every perp's uPnL + every isolated bucket's margin."""
    total = acct.cash
    for i in range(len(P)):
        total += acct.holdings[i] * P[i]
        total += acct.perps[i] * (P[i] - acct.entry[i])
        total += acct.margin[i]
    return total


def ratios(available, requirement):
    """(health_factor, margin_ratio) with the engine's documented edge cases.

    HF = available / requirement, MR = requirement / available; with no requirement HF is
    +inf (or -inf when available is negative); with nothing available MR is +inf, except the
    empty pool (nothing available, nothing required): MR = 0.
    """
    if requirement > 0:
        hf = available / requirement
    else:
        hf = INF if available >= 0 else -INF
    if available > 0:
        mr = requirement / available
    elif requirement > 0 or available < 0:
        mr = INF
    else:
        mr = 0.0
    return hf, mr


def reference_report(book, market, prices=None):
    """Margin report of every account, as a dict of lists (one entry per account).

    Keys: equity, weighted_collateral, weighted_liabilities, perp_pnl, maintenance_requirement,
    initial_requirement, pool_health, initial_health, health, health_factor, margin_ratio,
    liquidatable, bucket_health (list per asset, None where the account has no bucket),
    bucket_equity, bucket_requirement.
    """
    rules = Rules(market)
    P = _prices(rules, prices)
    keys = ("equity", "weighted_collateral", "weighted_liabilities", "perp_pnl",
            "maintenance_requirement", "initial_requirement", "pool_health", "initial_health",
            "health", "health_factor", "margin_ratio", "liquidatable", "bucket_health",
            "bucket_equity", "bucket_requirement")
    out = {k: [] for k in keys}
    for acct in read_accounts(book):
        wc, wl, pnl, mm, im, _ = pool_sums(acct, rules, P)
        iwc, iwl = init_weighted(acct, rules, P)
        available, requirement = wc + pnl, wl + mm
        pool_health = available - requirement
        # An isolated account's pool with no holdings and no debt (cash >= 0) can never fail:
        # it is not a part of the account's health (issue 12).
        empty_pool = acct.isolated and acct.cash >= 0 and all(x == 0 for x in acct.holdings)
        health = math.inf if empty_pool else pool_health
        hf, mr = ratios(available, requirement)
        b_health, b_equity, b_req = [None] * rules.n, [None] * rules.n, [None] * rules.n
        for i in range(rules.n):
            if has_bucket(acct, i):
                e, r = bucket_numbers(acct, rules, P, i)
                b_equity[i], b_req[i], b_health[i] = e, r, e - r
                # The account is as weak as its weakest part.
                health = min(health, e - r)
                bhf, bmr = ratios(e, r)
                hf = min(hf, bhf)
                mr = max(mr, bmr)
        if health == math.inf:                   # nothing at all: the empty pool's 0
            health = pool_health
        row = dict(equity=account_equity(acct, P), weighted_collateral=wc,
                   weighted_liabilities=wl, perp_pnl=pnl, maintenance_requirement=mm,
                   initial_requirement=im, pool_health=pool_health,
                   initial_health=(iwc + pnl) - (iwl + im), health=health, health_factor=hf,
                   margin_ratio=mr, liquidatable=health < 0, bucket_health=b_health,
                   bucket_equity=b_equity, bucket_requirement=b_req)
        for k in keys:
            out[k].append(row[k])
    return out


# --------------------------------------------------------------------------------------------
# Liquidation: the rule of liquidation.py's module docstring
# --------------------------------------------------------------------------------------------
def _lr_of(market, close_factor, lr):
    """The liquidation rules a call uses, read (as configuration only) from the engine."""
    from widgets.engine.rulebook import resolve_rules
    return resolve_rules(market, lr, close_factor)


def _close_pool(acct, rules, P, lr, units):
    """Close a failing pool by the convention ``lr`` (see ``widgets/engine/rulebook.py``).

    Returns (penalty paid, bad debt written off, gross notional closed, fully closed).
    """
    n = rules.n
    pen = rules.penalty
    wc, wl, pnl, mm, _, _ = pool_sums(acct, rules, P)
    equity = acct.cash
    C = D_spot = perp_pen = 0.0
    coll = [0.0] * n
    for i in range(n):
        equity += acct.holdings[i] * P[i]
        if acct.holdings[i] > 0:
            coll[i] = acct.holdings[i] * P[i]
            C += coll[i]
        else:
            D_spot += -acct.holdings[i] * P[i]
        if not acct.isolated:
            equity += acct.perps[i] * (P[i] - acct.entry[i])
            perp_pen += abs(acct.perps[i]) * P[i] * pen[i]
    D = D_spot + max(-acct.cash, 0.0)
    if C > 0:
        rate_c = sum(coll[i] * pen[i] for i in range(n)) / C
    elif D_spot > 0:
        rate_c = sum(max(-acct.holdings[i], 0.0) * P[i] * pen[i] for i in range(n)) / D_spot
    else:
        rate_c = 0.0
    conv = lr.convention
    if conv in ("full", "fraction"):
        f = 1.0 if conv == "full" or equity <= 0 else lr.close_factor
        fc = [f] * n
        fd = fp = f
        if lr.penalty_basis == "debt":
            due = f * (rate_c * D + perp_pen)
        else:
            due = f * (sum(abs(acct.holdings[i]) * P[i] * pen[i] for i in range(n)) + perp_pen)
    else:
        if D > 0:
            top = max([pen[i] for i in range(n) if coll[i] > 0], default=0.0)
            f_max = C / (D * (1.0 + top)) if C > 0 else 0.0
        else:
            f_max = 1.0
        if conv == "restore":
            im = 0.0
            h_init = acct.cash
            gain = D
            for i in range(n):
                h = acct.holdings[i]
                if h > 0:
                    h_init += h * P[i] * rules.init_asset_weight[i]
                    gain -= D * coll[i] / C * rules.init_asset_weight[i] * (1.0 + pen[i])
                elif h < 0:
                    h_init -= -h * P[i] * rules.init_liability_weight[i]
                    gain += -h * P[i] * (rules.init_liability_weight[i] - 1.0)
                if not acct.isolated and acct.perps[i] != 0:
                    im += rules.initial(i, abs(acct.perps[i]) * P[i])
                    h_init += acct.perps[i] * (P[i] - acct.entry[i])
            h_init -= im
            gain += im - perp_pen
            bX = lr.end_buffer * (D + sum(abs(acct.perps[i]) * P[i] for i in range(n)
                                          if not acct.isolated))
            need = ((bX - h_init) / (gain + bX) if gain + bX != 0 else INF) if h_init < bX else 0.0
            need = need * (1 + 1e-9) + 1e-12
            full = not (equity > 0 and gain > 0 and need <= min(f_max, 1.0))
            f = 1.0 if full else need
        else:  # aave
            hf = (wc + pnl) / (wl + mm) if wl + mm > 0 else INF
            f = lr.close_factor if hf > lr.full_close_below else 1.0
            if D > 0:
                f = min(f, f_max)
            full = equity <= 0 or (D > 0 and C == 0)
        if full:
            fc, fd, fp = [1.0] * n, 1.0, 1.0
            due = rate_c * D + perp_pen
        else:
            fc = [f * D * (1.0 + pen[i]) / C if C > 0 else 0.0 for i in range(n)]
            fc = [1.0 if x > 1.0 - 1e-12 else x for x in fc]   # the engine snaps to a full seize
            fd = fp = f
            due = f * (rate_c * D + perp_pen)
    gross = 0.0
    for i in range(n):
        h = acct.holdings[i]
        sold = fc[i] * h if h > 0 else fd * h    # collateral sold (> 0) or debt bought back (< 0)
        acct.cash += sold * P[i]
        acct.holdings[i] -= sold
        units[i] += sold
        gross += abs(sold) * P[i]
        if not acct.isolated and acct.perps[i] != 0:
            closed = fp * acct.perps[i]          # a long closed is a sale
            acct.cash += closed * (P[i] - acct.entry[i])
            acct.perps[i] -= closed
            units[i] += closed
            gross += abs(closed) * P[i]
            if acct.perps[i] == 0:
                acct.entry[i] = 0.0
    paid = min(due, max(equity, 0.0))            # a penalty cannot create debt
    acct.cash -= paid
    bad = 0.0
    closed_all = all(x == 1.0 for x in fc) and fd == 1.0 and fp == 1.0
    if closed_all and acct.cash < 0:             # closed out with a shortfall: write it off
        bad = -acct.cash
        acct.cash = 0.0
    return paid, bad, gross, closed_all


def _bucket_f(acct, rules, P, i, lr, equity):
    q = acct.perps[i]
    N = abs(q) * P[i]
    conv = lr.convention
    if conv == "full":
        return 1.0
    if conv == "fraction":
        return lr.close_factor if equity > 0 else 1.0
    if conv == "restore":
        im = rules.initial(i, N)
        gain = im - rules.penalty[i] * N
        bN = lr.end_buffer * N
        need = (((im + bN - equity) / (gain + bN) if gain + bN != 0 else INF)
                if equity < im + bN else 0.0)
        need = need * (1 + 1e-9) + 1e-12
        return need if (equity > 0 and gain > 0 and need < 1.0) else 1.0
    mm = rules.maintenance(i, N)
    hf = equity / mm if mm > 0 else INF
    return lr.close_factor if (equity > 0 and hf > lr.full_close_below) else 1.0


def _close_bucket(acct, rules, P, i, lr, units):
    """Close the share the convention ``lr`` asks (all, if equity <= 0) of bucket ``i``'s perp.

    Returns (penalty paid, bad debt, gross notional closed, margin before any settlement -- a
    decision boundary at 0 for partial closes, +inf for full ones, fully closed).
    """
    equity = acct.margin[i] + acct.perps[i] * (P[i] - acct.entry[i])
    f = _bucket_f(acct, rules, P, i, lr, equity)
    closed = f * acct.perps[i]
    acct.margin[i] += closed * (P[i] - acct.entry[i])
    acct.perps[i] -= closed
    units[i] += closed
    gross = abs(closed) * P[i]
    paid = min(gross * rules.penalty[i], max(equity, 0.0))
    acct.margin[i] -= paid
    bad = 0.0
    if f == 1.0 and acct.margin[i] < 0:
        bad = -acct.margin[i]
        acct.margin[i] = 0.0
    settle_margin = acct.margin[i] if f < 1.0 else INF
    if f < 1.0 and acct.margin[i] < 0:
        # The penalty came out of the open part's unrealized profit: settle that profit into
        # the margin (posted margin cannot be negative) by re-marking the open part at P.
        acct.margin[i] += acct.perps[i] * (P[i] - acct.entry[i])
        acct.entry[i] = P[i]
    if acct.perps[i] == 0:
        acct.entry[i] = 0.0
    return paid, bad, gross, settle_margin, f == 1.0


def _liquidation_pass(accounts, rules, P, lr):
    """Liquidate every failing pool and bucket of ``accounts`` in place at prices ``P``.

    Which parts fail is decided for every account before anything is closed. ``lr`` is the
    engine's ``LiquidationRules`` (read as configuration).
    """
    n = rules.n
    units = [0.0] * n
    penalty, bad_debt, notional, fully = [], [], [], []
    pool_failed, bucket_failed = [], []
    closest = INF
    for acct in accounts:
        wc, wl, pnl, mm, _, value = pool_sums(acct, rules, P)
        pool_health = wc + pnl - wl - mm
        if not _empty_pool(acct):
            closest = min(closest, abs(pool_health))
        if pool_health < 0:
            closest = min(closest, abs(value + pnl))
        failing_buckets = []
        for i in range(n):
            if has_bucket(acct, i):
                e, r = bucket_numbers(acct, rules, P, i)
                closest = min(closest, abs(e - r))
                if e - r < 0:
                    closest = min(closest, abs(e))
                    failing_buckets.append(i)
        paid = bad = gross = 0.0
        all_closed = True
        if pool_health < 0:
            p, b, g, c = _close_pool(acct, rules, P, lr, units)
            paid, bad, gross, all_closed = paid + p, bad + b, gross + g, all_closed and c
        for i in failing_buckets:
            p, b, g, settle_margin, c = _close_bucket(acct, rules, P, i, lr, units)
            paid, bad, gross, all_closed = paid + p, bad + b, gross + g, all_closed and c
            closest = min(closest, abs(settle_margin))
        penalty.append(paid)
        bad_debt.append(bad)
        notional.append(gross)
        pool_failed.append(pool_health < 0)
        bucket_failed.append([i in failing_buckets for i in range(n)])
        fully.append(all_closed and (pool_health < 0 or bool(failing_buckets)))
    fee = [p * lr.protocol_share for p in penalty]
    return dict(units=units, penalty=penalty, bad_debt=bad_debt, notional=notional,
                pool_failed=pool_failed, bucket_failed=bucket_failed, closest_to_boundary=closest,
                protocol_fee=fee, liquidator_bonus=[p - f for p, f in zip(penalty, fee)],
                fully_closed=fully)


def _empty_pool(acct):
    """Nothing in the pool at all: its health is exactly 0 in any implementation."""
    if acct.cash != 0:
        return False
    for i in range(len(acct.holdings)):
        if acct.holdings[i] != 0 or (not acct.isolated and acct.perps[i] != 0):
            return False
    return True


def _settle(fund, penalties, bad_debt):
    """Penalties go into the fund; bad debt is paid by the fund first, the rest socialized."""
    fund += penalties
    payout = min(fund, bad_debt)
    return fund - payout, payout, bad_debt - payout


def _positions(accounts):
    return dict(holdings=[list(a.holdings) for a in accounts],
                perps=[list(a.perps) for a in accounts],
                entry_prices=[list(a.entry) for a in accounts],
                isolated_margin=[list(a.margin) for a in accounts],
                cash=[a.cash for a in accounts])


def reference_liquidate(book, market, prices=None, close_factor=None, fund=0.0, lr=None):
    """One liquidation call. Returns a dict.

    Keys: holdings, perps, entry_prices, isolated_margin, cash (the new book, as lists);
    penalty, bad_debt, notional_closed, equity_before, equity_after, liquidated,
    pool_liquidated (per account); bucket_liquidated (per account and asset); units_sold (per
    asset); insurance_fund_before, insurance_fund, fund_payout, socialized_loss;
    protocol_fee, liquidator_bonus, fully_closed (per account); closest_to_boundary (see the
    module docstring). ``lr``: liquidation rules (default: as the engine resolves them).
    """
    rules = Rules(market)
    P = _prices(rules, prices)
    accounts = read_accounts(book)
    before = [account_equity(a, P) for a in accounts]
    lr = _lr_of(market, close_factor, lr)
    flows = _liquidation_pass(accounts, rules, P, lr)
    new_fund, payout, social = _settle(float(fund), sum(flows["protocol_fee"]),
                                       sum(flows["bad_debt"]))
    out = _positions(accounts)
    out.update(
        penalty=flows["penalty"], bad_debt=flows["bad_debt"], notional_closed=flows["notional"],
        equity_before=before, equity_after=[account_equity(a, P) for a in accounts],
        pool_liquidated=flows["pool_failed"], bucket_liquidated=flows["bucket_failed"],
        liquidated=[p or any(b) for p, b in zip(flows["pool_failed"], flows["bucket_failed"])],
        units_sold=flows["units"], insurance_fund_before=float(fund), insurance_fund=new_fund,
        fund_payout=payout, socialized_loss=social,
        closest_to_boundary=flows["closest_to_boundary"], protocol_fee=flows["protocol_fee"],
        liquidator_bonus=flows["liquidator_bonus"], fully_closed=flows["fully_closed"])
    return out


# --------------------------------------------------------------------------------------------
# Cascade: the algorithm of cascade.py's module docstring
# --------------------------------------------------------------------------------------------
def impact_price(model, shocked, cumulative_sold, reference_price, depth, volatility,
                 scale=None):
    """One asset's price after cumulative net sales (units; negative = bought).

    ``scale="common"``: a sale of 1 % of depth moves the price 1 % under every model (square
    root ``0.1 sqrt(x)``, exponential ``exp(-k x)`` with ``1 - exp(-0.01 k) = 0.01``);
    ``"legacy"``: square root ``volatility x sqrt(x)``, exponential ``exp(-x)``. Default: the
    engine's ``cascade.IMPACT_SCALE`` (read as configuration).
    """
    if scale is None:
        import importlib
        scale = importlib.import_module("widgets.engine.cascade").IMPACT_SCALE
    x = cumulative_sold * reference_price / depth      # share of depth, at reference prices
    if model == "linear":
        factor = 1.0 - x
    elif model == "sqrt":
        sign = (x > 0) - (x < 0)
        factor = 1.0 - sign * (0.1 if scale == "common" else volatility) * math.sqrt(abs(x))
    elif model == "exponential":
        k = -math.log(0.99) / 0.01 if scale == "common" else 1.0
        factor = math.exp(-k * x) if abs(k * x) < 700 else (0.0 if x > 0 else math.inf)
    else:
        raise ValueError(f"unknown impact model {model!r}")
    # Every model stays within [1 %, 100x] of the shocked price.
    return shocked * min(max(factor, IMPACT_FLOOR), IMPACT_CAP)


def reference_cascade(book, market, shock, impact="linear", max_rounds=50, close_factor=None,
                      fund=0.0, lr=None, impact_scale=None):
    """Shock prices, then liquidate and move prices until nothing fails or ``max_rounds``.

    ``shock`` is a fraction (scalar, or one per asset). Returns a dict with keys
    prices_by_round ((R + 1) rows), liquidated_by_round, newly_liquidated_by_round,
    units_sold_by_round, penalty_by_round, bad_debt_by_round, socialized_loss_by_round,
    impact_by_round (change of the book's total equity caused by each round's price move),
    insurance_fund_by_round ((R + 1) entries), first_round (per account, 1-based, 0 = never),
    converged, the final positions (holdings, perps, entry_prices, isolated_margin, cash) and
    closest_to_boundary_by_round (see the module docstring; one entry per liquidation decision,
    including the final one that found nothing to do or the check at the round limit: R + 1).
    """
    rules = Rules(market)
    lr = _lr_of(market, close_factor, lr)
    n = rules.n
    shocks = [float(shock)] * n if isinstance(shock, (int, float)) else [float(s) for s in shock]
    shocked = [rules.prices[i] * (1.0 + shocks[i]) for i in range(n)]
    accounts = read_accounts(book)
    first_round = [0] * len(accounts)
    fund = float(fund)
    P = list(shocked)
    cumulative = [0.0] * n
    rec = dict(prices_by_round=[list(P)], liquidated_by_round=[], newly_liquidated_by_round=[],
               units_sold_by_round=[], penalty_by_round=[], bad_debt_by_round=[],
               socialized_loss_by_round=[], impact_by_round=[], insurance_fund_by_round=[fund],
               closest_to_boundary_by_round=[])
    converged = False
    for r in range(1, max_rounds + 1):
        flows = _liquidation_pass(accounts, rules, P, lr)
        rec["closest_to_boundary_by_round"].append(flows["closest_to_boundary"])
        hit = [p or any(b) for p, b in zip(flows["pool_failed"], flows["bucket_failed"])]
        if not any(hit):
            converged = True
            break
        new = 0
        for a, h in enumerate(hit):
            if h and first_round[a] == 0:
                first_round[a] = r
                new += 1
        penalty, bad = sum(flows["penalty"]), sum(flows["bad_debt"])
        fund, _, social = _settle(fund, sum(flows["protocol_fee"]), bad)
        for i in range(n):
            cumulative[i] += flows["units"][i]
        P_next = [impact_price(impact, shocked[i], cumulative[i], rules.prices[i],
                               rules.depth[i], rules.volatility[i], impact_scale)
                  for i in range(n)]
        # What the price move does to the value of everything the book still holds.
        impact_value = 0.0
        for acct in accounts:
            impact_value += account_equity(acct, P_next) - account_equity(acct, P)
        rec["liquidated_by_round"].append(sum(hit))
        rec["newly_liquidated_by_round"].append(new)
        rec["units_sold_by_round"].append(list(flows["units"]))
        rec["penalty_by_round"].append(penalty)
        rec["bad_debt_by_round"].append(bad)
        rec["socialized_loss_by_round"].append(social)
        rec["impact_by_round"].append(impact_value)
        rec["insurance_fund_by_round"].append(fund)
        P = P_next
        rec["prices_by_round"].append(list(P))
    else:
        # Round limit reached: converged only if nothing is failing at the last prices.
        check = _liquidation_pass([_copy(a) for a in accounts], rules, P, lr)
        rec["closest_to_boundary_by_round"].append(check["closest_to_boundary"])
        converged = not any(p or any(b) for p, b in zip(check["pool_failed"],
                                                       check["bucket_failed"]))
    rec.update(_positions(accounts))
    rec.update(first_round=first_round, converged=converged)
    return rec


def _copy(acct):
    return Acct(list(acct.holdings), list(acct.perps), list(acct.entry), list(acct.margin),
                acct.cash, acct.isolated)
