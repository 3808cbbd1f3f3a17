"""Kernel-side cost of one input change for each component (headless, no browser).

What one slider move costs in the kernel: the engine call, the trait updates, the mark updates
and the serialization of the messages that would go to the browser (ipywidgets builds the state
and binary buffers before handing them to the comm; here the comm is the no-op DummyComm, so
network and rendering are not included — tests/benchmarks/bench_browser.py measures those).

Each change alternates an input between two values, so every change does real work. Prints the
median and 95th percentile per component and the ratio to the 30 ms goal.

    python tests/benchmarks/bench_widgets.py [--repeats 60]
"""
from __future__ import annotations

import argparse
import statistics
import time
import warnings

warnings.simplefilter("ignore")

GOAL_MS = 30.0


def _cases():
    from widgets import (CascadeLab, CorrelationLab, HealthGauge, InsuranceFundLab,
                         MarginBreakdown, PoolingLab, ShockPanel)

    def toggle(obj, name, a, b):
        state = {"i": 0}

        def change():
            state["i"] ^= 1
            setattr(obj, name, a if state["i"] else b)
        return change

    panel = ShockPanel()
    gauge = HealthGauge()
    breakdown = MarginBreakdown()
    pooling = PoolingLab()
    correlation = CorrelationLab(n_scenarios=10_000)
    cascade_lab = CascadeLab(n_accounts=10_000)
    fund_lab = InsuranceFundLab()
    eth = {"ETH": -0.10}, {"ETH": -0.12}
    yield "ShockPanel (shock)", toggle(panel, "shock", *eth)
    yield "HealthGauge (shock)", toggle(gauge, "shock", *eth)
    yield "MarginBreakdown (shock)", toggle(breakdown, "shock", *eth)
    yield "PoolingLab (shock)", toggle(pooling, "shock", *eth)
    yield "PoolingLab (collateral)", toggle(pooling, "collateral", 30_000.0, 28_000.0)
    yield "CorrelationLab 10^4 scenarios (level)", toggle(correlation, "level", 0.3, 0.35)
    yield "CorrelationLab 10^4 scenarios (horizon)", toggle(correlation, "horizon_days", 1.0, 1.25)
    yield "CascadeLab 10^4 accounts (shock)", toggle(cascade_lab, "shock", -0.05, -0.06)
    yield "CascadeLab 10^4 accounts (depth)", toggle(cascade_lab, "depth", 30.0, 35.0)
    yield "CascadeLab (round step)", toggle(cascade_lab, "round", 1, 2)
    yield "InsuranceFundLab 10^4 accounts (shock)", toggle(fund_lab, "shock", -0.10, -0.11)
    yield "InsuranceFundLab (fund)", toggle(fund_lab, "fund", 20e6, 21e6)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=60)
    args = parser.parse_args()
    print(f"{'component (input changed)':44s} {'median ms':>10s} {'p95 ms':>8s} {'goal':>6s}")
    rows = []
    for name, change in _cases():
        for _ in range(3):                         # warm up caches and lazy imports
            change()
        times = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            change()
            times.append((time.perf_counter() - t0) * 1e3)
        times.sort()
        med = statistics.median(times)
        p95 = times[int(0.95 * (len(times) - 1))]
        rows.append((name, med, p95))
        print(f"{name:44s} {med:10.2f} {p95:8.2f} {'PASS' if med < GOAL_MS else 'MISS':>6s}")
    worst = max(rows, key=lambda r: r[1])
    print(f"\nsummary: slowest median {worst[1]:.1f} ms ({worst[0]}), "
          f"{GOAL_MS / worst[1]:.1f}x under the {GOAL_MS:.0f} ms goal" if worst[1] < GOAL_MS else
          f"\nsummary: slowest median {worst[1]:.1f} ms ({worst[0]}) misses the {GOAL_MS:.0f} ms goal")


if __name__ == "__main__":
    main()
