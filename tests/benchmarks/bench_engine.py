"""Speed benchmark for the numpy margin engine (a script, not a pytest module).

Run from the repository root::

    python tests/benchmarks/bench_engine.py            # full sizes (about a minute or two)
    python tests/benchmarks/bench_engine.py --quick    # small sizes, a smoke run (seconds)

What it measures (median of several repeats after a warm-up, ``time.perf_counter``):

1. ``margin_report`` on 10**6 accounts x 8 assets, reading health, health_factor, margin_ratio
   and liquidatable, against the "fused floor" ``holdings @ (prices * weights)`` on the same
   (10**6, 8) array (goal: ratio <= 10x, issue 12; moonshot 5x); Book construction (the
   one-time precomputation) apart. Then the same report with margin brackets on every asset
   (``market8_brackets``) against the single-rate report, alternated in one process (goal:
   brackets <= 1.5x single rate, issue 11).
2. ``cascade`` on 10**5 accounts to its fixed point (goal < 100 ms), and the scalar reference
   ``tests.support.reference.reference_cascade`` once on the same book (goal: speed-up >= 100x),
   with a check that both liquidate the same accounts and end at the same prices.
3. Scaling: margin_report for 10**3 .. 10**6 accounts, cascade for 10**3 .. 10**5.
4. ``liquidation_probability`` for one account with 10**4 scenarios (the correlation slider).

The goals are informational: the script always exits 0. The environment is used as it is;
the header prints the BLAS build, its detected core and the OpenBLAS / thread variables that
change the figures (OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE, ...), so results can be compared.
"""
from __future__ import annotations

import argparse
import ctypes
import inspect
import os
import platform
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

import numpy as np  # noqa: E402

from tests.support.reference import reference_cascade  # noqa: E402
from widgets.engine import (  # noqa: E402
    Book, Market, cascade, liquidation_probability, margin_report,
)

ENV_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
            "MKL_NUM_THREADS", "NPY_DISABLE_CPU_FEATURES")

GOAL_MARGIN_RATIO = 5.0      # margin_report / fused floor
GOAL_MARGIN_RATIO_12 = 10.0  # issue 12's intermediate goal for the same ratio
GOAL_BRACKETS = 1.5          # margin_report with brackets on every asset / single rate
GOAL_CASCADE_MS = 100.0      # cascade on 10**5 accounts
GOAL_SPEEDUP = 100.0         # reference_cascade / cascade


# -- the 8-asset market and the scenario ----------------------------------------------------------

def market8() -> Market:
    """Eight assets, seven risky and one stablecoin, with venue-like parameters.

    Majors (BTC, ETH, SOL) follow :meth:`Market.example`; the smaller caps get lower collateral
    weights, higher margins and penalties (Mango-v4-style tiers), higher volatility and thinner
    books. Correlations come from one market factor (loadings 0.70-0.90, the stablecoin 0), so
    the matrix is positive definite by construction.
    """
    assets = ("BTC", "ETH", "SOL", "BNB", "XRP", "DOGE", "AVAX", "USDC")
    loading = np.array([0.90, 0.88, 0.80, 0.78, 0.72, 0.70, 0.80, 0.0])
    corr = np.outer(loading, loading)
    np.fill_diagonal(corr, 1.0)
    return Market(
        assets=assets,
        prices=[100_000.0, 4_000.0, 200.0, 600.0, 2.5, 0.25, 35.0, 1.0],
        asset_weight=[0.9, 0.9, 0.9, 0.85, 0.8, 0.75, 0.8, 1.0],
        liability_weight=[1.1, 1.1, 1.1, 1.15, 1.2, 1.25, 1.2, 1.0],
        maintenance_margin=[0.0125, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05, 0.0],
        initial_margin=[0.025, 0.04, 0.05, 0.05, 0.05, 0.10, 0.10, 0.0],
        # Penalties at each asset's maintenance margin (the most a consistent venue allows;
        # the 5-10 % of earlier versions are refused since issue 12).
        liquidation_penalty=[0.0125, 0.02, 0.025, 0.025, 0.025, 0.05, 0.05, 0.0],
        volatility=[0.03, 0.04, 0.05, 0.04, 0.06, 0.07, 0.06, 0.001],
        correlation=corr,
        depth=[2e8, 1e8, 3e7, 2e7, 2e7, 1e7, 1e7, 1e9],
    )


# Bracket floors (quote notional) shared by every asset in the bracketed benchmark: Binance's
# BTCUSDT floors up to 50M; maintenance rates grow from each asset's single rate by the
# BTCUSDT ratios (0.4 % -> 0.5 % -> 1 % -> 2.5 % -> 5 % -> 10 % -> 12.5 %, capped at 50 %),
# initial = 2 x maintenance (capped at 100 %).
BRACKET_FLOORS = (0.0, 50_000.0, 250_000.0, 1_000_000.0, 10_000_000.0, 20_000_000.0,
                  50_000_000.0)
BRACKET_STEPS = np.array([1.0, 1.25, 2.5, 6.25, 12.5, 25.0, 31.25])


def market8_brackets(market: Market) -> Market:
    """``market`` with a bracket table on every asset (see ``BRACKET_FLOORS``)."""
    tables = {}
    for i, a in enumerate(market.assets):
        mm = np.minimum(market.maintenance_margin[i] * BRACKET_STEPS, 0.5)
        tables[a] = {"floor": list(BRACKET_FLOORS), "maintenance": mm.tolist(),
                     "initial": np.minimum(2.0 * mm, 1.0).tolist()}
    return market.replace(brackets=tables)


SHOCK = -0.10          # on every risky asset (the stablecoin does not move)
DEPTH_PER_ACCOUNT = 10.0  # depth = market8().depth x n_accounts / 100: impact scales with book


def cascade_market(market: Market, n_accounts: int) -> Market:
    """The market with depth proportional to the book, so the cascade looks alike at any size.

    At 10**5 accounts (median equity 10,000) BTC depth is 2e11: a -10 % shock then liquidates a
    quarter of the book in round 1 and the fire sales take several more rounds to die out.
    """
    return market.replace(depth=market.depth * DEPTH_PER_ACCOUNT * n_accounts / 1_000)


def shock_of(market: Market) -> dict:
    return {a: SHOCK for a, v in zip(market.assets, market.volatility) if v >= 0.01}


# -- timing ---------------------------------------------------------------------------------------

def timeit(fn, repeats: int, warmup: int = 1):
    """Median and min wall time (seconds) of ``fn()`` over ``repeats`` runs after ``warmup``."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times)


def fmt_t(seconds: float) -> str:
    if seconds < 1e-3:
        return f"{seconds * 1e6:8.1f} us"
    if seconds < 1.0:
        return f"{seconds * 1e3:8.2f} ms"
    return f"{seconds:8.3f} s "


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


# -- header: machine, BLAS, environment -----------------------------------------------------------

def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _openblas_runtime() -> str | None:
    """Core and threads that the loaded OpenBLAS picked at run time (ctypes; None if unknown)."""
    try:
        libs = sorted({line.split()[-1] for line in Path("/proc/self/maps").read_text().splitlines()
                       if "openblas" in line.lower() and line.split()[-1].startswith("/")})
    except OSError:
        return None
    for path in libs:
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""),
                               ("openblas", "64_"), ("openblas", "")):
            try:
                core = getattr(lib, f"{prefix}_get_corename{suffix}")
                threads = getattr(lib, f"{prefix}_get_num_threads{suffix}")
            except AttributeError:
                continue
            core.restype = ctypes.c_char_p
            threads.restype = ctypes.c_int
            return (f"{Path(path).name}: core={core().decode()} threads={threads()}")
    return None


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def blas_info() -> list:
    lines = []
    try:
        import threadpoolctl
        for info in threadpoolctl.threadpool_info():
            lines.append(f"threadpoolctl: {info.get('internal_api')} {info.get('version')} "
                         f"arch={info.get('architecture')} threads={info.get('num_threads')} "
                         f"({Path(info.get('filepath', '')).name})")
    except ImportError:
        try:
            cfg = np.show_config(mode="dicts")
            blas = cfg["Build Dependencies"]["blas"]
            conf = " ".join(str(blas.get("openblas configuration", "")).split())
            lines.append(f"numpy.show_config: blas={blas.get('name')} {blas.get('version')} "
                         f"[{conf}]")
            simd = cfg.get("SIMD Extensions", {})
            lines.append(f"numpy SIMD: baseline={','.join(simd.get('baseline', []))} "
                         f"found={','.join(simd.get('found', []))}")
        except Exception as exc:  # noqa: BLE001 (informational only)
            lines.append(f"numpy.show_config unavailable: {exc}")
        lines.append("(threadpoolctl not installed)")
    rt = _openblas_runtime()
    if rt:
        lines.append(f"OpenBLAS at run time: {rt}")
    return lines


def header(args) -> None:
    print("=" * 78)
    print(f"Cross-Margin Lab engine benchmark  ({'QUICK' if args.quick else 'full'} sizes, "
          f"median of {args.repeats} after warm-up)")
    print("=" * 78)
    print(f"python {platform.python_version()}  numpy {np.__version__}  {platform.machine()}  "
          f"cpus={os.cpu_count()}  {_cpu_model()}")
    print("env: " + "  ".join(f"{k}={os.environ.get(k, '<unset>')}" for k in ENV_VARS))
    for line in blas_info():
        print(line)
    print(f"load average at start: {_load()}  (other processes on these {os.cpu_count()} cores "
          f"slow multi-threaded BLAS calls a lot; compare min and median)")
    print()


# -- the sections ---------------------------------------------------------------------------------

def read_report(book, market):
    r = margin_report(book, market)
    return r.health, r.health_factor, r.margin_ratio, r.liquidatable


def bench_margin(m: Market, n_acc: int, repeats: int, res: dict) -> None:
    print(f"1. margin_report, {n_acc:,} accounts x {m.n_assets} assets")
    t0 = time.perf_counter()
    book = Book.random(m, n_acc, seed=1)
    t_random = time.perf_counter() - t0
    fields = dict(holdings=book.holdings, perps=book.perps, entry_prices=book.entry_prices,
                  mode=book.mode, isolated_margin=book.isolated_margin, cash=book.cash)
    t0 = time.perf_counter()
    Book(**fields)
    t_build = time.perf_counter() - t0
    print(f"   Book.random (draws + construction)      {fmt_t(t_random)}   one-time")
    print(f"   Book(...) from arrays (validate+stack)  {fmt_t(t_build)}   one-time")

    t_mr, t_mr_min = timeit(lambda: read_report(book, m), repeats)
    H = np.ascontiguousarray(book.holdings)
    t_floor, t_floor_min = timeit(lambda: H @ (m.prices * m.asset_weight), repeats)
    ratio = t_mr / t_floor
    try:  # the one BLAS product margin_report is built on (engine internal; informational)
        from widgets.engine._pool import pool_sums
        P1 = m.prices[None, :]
        t_mm, _ = timeit(lambda: pool_sums(book._stack, m, P1), repeats)
    except Exception:  # noqa: BLE001
        t_mm = None
    print(f"   margin_report + read 4 fields           {fmt_t(t_mr)}   (min {fmt_t(t_mr_min)}) "
          f"{t_mr / n_acc * 1e9:7.1f} ns/account")
    print(f"   fused floor holdings @ (P * w)          {fmt_t(t_floor)}   "
          f"(min {fmt_t(t_floor_min)}) {t_floor / n_acc * 1e9:7.1f} ns/account")
    if t_mm is not None:
        print(f"   of which pool sums (pool_sums, 1 BLAS)  {fmt_t(t_mm)}   "
              f"({t_mm / t_floor:.1f}x the floor on its own)")
    print(f"   ratio margin_report / floor             {ratio:8.1f} x   "
          f"goal <= {GOAL_MARGIN_RATIO_12:g}x (issue 12) {verdict(ratio <= GOAL_MARGIN_RATIO_12)}, "
          f"moonshot <= {GOAL_MARGIN_RATIO:g}x {verdict(ratio <= GOAL_MARGIN_RATIO)}")
    # The same book on the same market with brackets on every asset, timed alternately with
    # the single-rate report in one process (the machine's load drifts between sections).
    mb = market8_brackets(m)
    N = np.abs(book.perps) * m.prices
    above = float((N >= BRACKET_FLOORS[1]).sum() / max((N > 0).sum(), 1))
    t_single, t_br = [], []
    for _ in range(3):
        t_single.append(timeit(lambda: read_report(book, m), max(repeats // 2, 2))[0])
        t_br.append(timeit(lambda: read_report(book, mb), max(repeats // 2, 2))[0])
    t_single, t_br = min(t_single), min(t_br)
    ratio_br = t_br / t_single
    print(f"   with brackets on all 8 assets           {fmt_t(t_br)}   vs single rate "
          f"{fmt_t(t_single).strip()} ({100 * above:.1f} % of perps above the first floor)")
    print(f"   ratio brackets / single rate            {ratio_br:8.2f} x   "
          f"goal <= {GOAL_BRACKETS:g}x  {verdict(ratio_br <= GOAL_BRACKETS)}")
    print(f"   ratio brackets / floor                  {t_br / t_floor:8.1f} x")
    print()
    res.update(n_margin=n_acc, t_random=t_random, t_build=t_build, t_mr=t_mr, t_floor=t_floor,
               margin_ratio=ratio, t_matmul=t_mm, t_brackets=t_br, t_single=t_single,
               brackets_ratio=ratio_br)


def _ref_summary(out):
    """(n_liquidated, final_prices, n_rounds) of a ``reference_cascade`` record."""
    return (sum(1 for r in out["first_round"] if r), np.asarray(out["prices_by_round"][-1]),
            len(out["liquidated_by_round"]))


def bench_cascade(m: Market, n_acc: int, repeats: int, res: dict) -> None:
    mc = cascade_market(m, n_acc)
    shock = shock_of(mc)
    print(f"2. cascade, {n_acc:,} accounts x {m.n_assets} assets, shock {SHOCK:+.0%} on risky "
          f"assets, linear impact, depth = base x {DEPTH_PER_ACCOUNT * n_acc / 1000:g}")
    book = Book.random(mc, n_acc, seed=2, preset="legacy")   # the heavy book of the goals
    out = cascade(book, mc, shock)
    t_c, t_c_min = timeit(lambda: cascade(book, mc, shock), repeats)
    print(f"   rounds {out.n_rounds} (converged={out.converged}), accounts liquidated "
          f"{out.n_liquidated:,} of {n_acc:,}; by round {out.liquidated_by_round.tolist()}")
    print("   final price change " + ", ".join(
        f"{a} {c:+.1%}" for a, c in zip(mc.assets, out.price_change)))
    print(f"   cascade to fixed point                  {fmt_t(t_c)}   (min {fmt_t(t_c_min)})   "
          f"goal < {GOAL_CASCADE_MS:g} ms  {verdict(t_c * 1e3 < GOAL_CASCADE_MS)}")
    res.update(n_cascade=n_acc, t_cascade=t_c, rounds=out.n_rounds, n_liq=out.n_liquidated)
    bench_conventions(mc, shock, n_acc, repeats)

    print(f"   reference_cascade{inspect.signature(reference_cascade)}")
    t0 = time.perf_counter()
    ref_out = reference_cascade(book, mc, [shock.get(a, 0.0) for a in mc.assets])
    t_ref = time.perf_counter() - t0
    speedup = t_ref / t_c
    print(f"   reference_cascade (scalar, once)        {fmt_t(t_ref)}   speed-up {speedup:,.0f}x   "
          f"goal >= {GOAL_SPEEDUP:g}x  {verdict(speedup >= GOAL_SPEEDUP)}")
    r_liq, r_prices, r_rounds = _ref_summary(ref_out)
    same_n = r_liq == out.n_liquidated
    if r_prices is not None and r_prices.shape == out.final_prices.shape:
        rel = float(np.max(np.abs(r_prices - out.final_prices) / out.final_prices))
        same_p = rel <= 1e-9
    else:
        rel, same_p = float("nan"), False
    check = same_n and same_p
    print(f"   check: liquidated engine {out.n_liquidated:,} vs reference {r_liq}; "
          f"rounds {out.n_rounds} vs {r_rounds}; final prices max rel diff {rel:.2e} "
          f"(<= 1e-9) -> {'OK' if check else 'MISMATCH'}")
    res.update(t_ref=t_ref, speedup=speedup, check=check)
    print()


def bench_conventions(mc: Market, shock: dict, n_acc: int, repeats: int) -> None:
    """The same cascade under each liquidation convention and ``Book.random`` preset (issue 12).

    Prints rounds, accounts liquidated, bad debt and the median wall time; ADL is assigned
    lazily (on first access to ``socialized_by_account``), timed separately.
    """
    from widgets.engine import LiquidationRules
    print(f"   by convention and book preset ({n_acc:,} accounts):")
    print(f"   {'preset':>10} {'rules':>8} {'rounds':>6} {'liquidated':>10} {'bad debt':>14} "
          f"{'cascade':>10} {'+ ADL':>9}")
    for preset in ("legacy", "overheated", "calm"):
        book = Book.random(mc, n_acc, seed=2, preset=preset)
        for name, rules in (("full", LiquidationRules.full()), ("restore", LiquidationRules()),
                            ("aave", LiquidationRules.aave())):
            out = cascade(book, mc, shock, rules=rules)
            t, _ = timeit(lambda: cascade(book, mc, shock, rules=rules), max(repeats // 2, 3))
            t0 = time.perf_counter()
            out.socialized_by_account
            t_adl = time.perf_counter() - t0
            print(f"   {preset:>10} {name:>8} {out.n_rounds:>6} {out.n_liquidated:>10,} "
                  f"{out.bad_debt:>14,.0f} {fmt_t(t):>10} {fmt_t(t_adl):>9}")


def bench_scaling(m: Market, sizes_mr, sizes_c, repeats: int, res: dict) -> None:
    print(f"3. scaling ({m.n_assets} assets)")
    print(f"   {'accounts':>10}  {'margin_report':>13}  {'ns/account':>10}  {'cascade':>11}  "
          f"{'ns/account':>10}  {'rounds':>6}  {'liquidated':>10}")
    rows = []
    for n in sorted(set(sizes_mr) | set(sizes_c)):
        book = Book.random(m, n, seed=3)
        reps = repeats if n >= 10**5 else max(repeats, 15)
        line = f"   {n:>10,}"
        t_mr = t_c = None
        if n in sizes_mr:
            t_mr, _ = timeit(lambda: read_report(book, m), reps)
            line += f"  {fmt_t(t_mr):>13}  {t_mr / n * 1e9:10.1f}"
        else:
            line += f"  {'-':>13}  {'-':>10}"
        if n in sizes_c:
            mc = cascade_market(m, n)
            shock = shock_of(mc)
            out = cascade(book, mc, shock)
            t_c, _ = timeit(lambda: cascade(book, mc, shock), reps)
            line += (f"  {fmt_t(t_c):>11}  {t_c / n * 1e9:10.1f}  {out.n_rounds:>6}  "
                     f"{out.n_liquidated:>10,}")
        print(line)
        rows.append((n, t_mr, t_c))
    res["scaling"] = rows
    print()


def bench_probability(m: Market, n_scen: int, repeats: int, res: dict) -> None:
    book = Book.random(m, 1000, seed=4)
    # A leveraged account: the one with the smallest positive health factor.
    hf = margin_report(book, m).health_factor
    i = int(np.argmin(np.where(np.isfinite(hf), hf, np.inf)))
    acct = book.account(i)
    p = liquidation_probability(acct, m, n_scen, seed=0)
    t_p, t_p_min = timeit(lambda: liquidation_probability(acct, m, n_scen, seed=0),
                          max(repeats, 15))
    print(f"4. liquidation_probability, one {acct.mode} account (HF {hf[i]:.3f}), "
          f"{n_scen:,} scenarios: p = {p:.4f}")
    print(f"   time                                    {fmt_t(t_p)}   (min {fmt_t(t_p_min)})")
    res.update(n_scen=n_scen, t_prob=t_p)
    print()


def summary(res: dict) -> None:
    print("-" * 78)
    print("summary")
    print("-" * 78)
    print(f"{'margin_report ' + format(res['n_margin'], ',') + ' x 8':34}{fmt_t(res['t_mr'])}  "
          f"({res['t_mr'] / res['n_margin'] * 1e9:.1f} ns/account)")
    print(f"{'fused floor ' + format(res['n_margin'], ',') + ' x 8':34}{fmt_t(res['t_floor'])}")
    print(f"ratio report/floor                {res['margin_ratio']:8.1f} x   goal <= "
          f"{GOAL_MARGIN_RATIO_12:g}x (issue 12) {verdict(res['margin_ratio'] <= GOAL_MARGIN_RATIO_12)}"
          f", moonshot <= {GOAL_MARGIN_RATIO:g}x {verdict(res['margin_ratio'] <= GOAL_MARGIN_RATIO)}")
    if res.get("t_brackets") is not None:
        print(f"margin_report with brackets       {fmt_t(res['t_brackets'])}  = "
              f"{res['brackets_ratio']:.2f}x single rate ({fmt_t(res['t_single']).strip()}, same "
              f"process)  goal <= {GOAL_BRACKETS:g}x  {verdict(res['brackets_ratio'] <= GOAL_BRACKETS)}"
              f"; {res['t_brackets'] / res['t_floor']:.1f}x the floor")
    if res.get("t_matmul") is not None:
        print(f"  (pool-sum matmul alone          {fmt_t(res['t_matmul'])}  = "
              f"{res['t_matmul'] / res['t_floor']:.1f}x the floor)")
    print(f"Book construction (one-time)      {fmt_t(res['t_build'])}  "
          f"(Book.random incl. draws {fmt_t(res['t_random']).strip()})")
    print(f"{'cascade ' + format(res['n_cascade'], ',') + ' x 8':34}{fmt_t(res['t_cascade'])}  "
          f"({res['rounds']} rounds, {res['n_liq']:,} liquidated)  goal < {GOAL_CASCADE_MS:g} ms"
          f"  {verdict(res['t_cascade'] * 1e3 < GOAL_CASCADE_MS)}")
    if res.get("t_ref") is not None:
        print(f"reference_cascade (scalar)        {fmt_t(res['t_ref'])}  speed-up "
              f"{res['speedup']:,.0f}x  goal >= {GOAL_SPEEDUP:g}x  "
              f"{verdict(res['speedup'] >= GOAL_SPEEDUP)}")
        print(f"engine vs reference (n liquidated, final prices)   "
              f"{'OK' if res['check'] else 'MISMATCH'}")
    else:
        print("reference_cascade (scalar)        unavailable   speed-up goal >= "
              f"{GOAL_SPEEDUP:g}x  n/a")
    scal = "  ".join(f"{n:.0e}:{t / n * 1e9:.0f}" for n, t, _ in res["scaling"] if t is not None)
    print(f"margin_report ns/account          {scal}")
    scal = "  ".join(f"{n:.0e}:{fmt_t(t).strip()}" for n, _, t in res["scaling"] if t is not None)
    print(f"cascade time                      {scal}")
    print(f"{'liquidation_probability ' + format(res['n_scen'], ',') + ' scen':34}"
          f"{fmt_t(res['t_prob'])}")
    print(f"load average at end: {_load()}")
    print("(goals are informational; exit status is always 0)")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    ap.add_argument("--repeats", type=int, default=None, help="timed repeats (default 7; 3 quick)")
    args = ap.parse_args(argv)
    if args.repeats is None:
        args.repeats = 3 if args.quick else 7
    n_margin, n_cascade = (10**4, 10**3) if args.quick else (10**6, 10**5)
    sizes_mr = (10**3, 10**4) if args.quick else (10**3, 10**4, 10**5, 10**6)
    sizes_c = (10**3,) if args.quick else (10**3, 10**4, 10**5)
    n_scen = 10**3 if args.quick else 10**4

    header(args)
    m = market8()
    res: dict = {}
    bench_margin(m, n_margin, args.repeats, res)
    bench_cascade(m, n_cascade, args.repeats, res)
    bench_scaling(m, sizes_mr, sizes_c, args.repeats, res)
    bench_probability(m, n_scen, args.repeats, res)
    summary(res)
    return 0


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # noqa: BLE001 (the goals are informational: always exit 0)
        import traceback
        traceback.print_exc()
        print(f"benchmark aborted: {type(exc).__name__}: {exc}")
    sys.exit(0)
