"""Staffing speed: Erlang A for 336 intervals x 10 queues against pyworkforce's Erlang C on the
same grid, measured in the same run.

The grid is a week of 30-minute intervals for ten queues of different sizes (1 to ~80 calls
per interval, handle times 150-420 s, patience 60-300 s) with an 80/20 target, an 85%
occupancy cap and 30% shrinkage. Each contender staffs every cell (fewest agents meeting the
targets); the best of ``--repeat`` runs counts. Our Erlang C runs too, and its agents are
compared with pyworkforce's raw positions cell by cell (they should agree).

pyworkforce is an optional bench dependency: ``pip install -e '.[bench]'``. Without it the
bench says so and exits with status 2. Exit status 1 if Erlang A is not faster.

    .venv/bin/python bench/staffing.py
    .venv/bin/python bench/staffing.py --scale 20   # a call centre 20x bigger
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from collections.abc import Callable

import numpy as np

from planning.erlang import Cells, Targets, staff_many

INTERVALS, QUEUES, MINUTES = 336, 10, 30
TARGETS = Targets(service_level=0.8, answer_within=20.0, max_occupancy=0.85, shrinkage=0.3)


def grid(scale: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Calls per interval, handle seconds and patience seconds, each INTERVALS x QUEUES."""
    rng = np.random.default_rng(42)
    hour = (np.arange(INTERVALS) % 48) / 2
    weekend = np.where(np.arange(INTERVALS) // 48 >= 5, 1.3, 1.0)
    shape = (0.1 + np.exp(-(((hour - 20) / 3) ** 2)) + 0.6 * np.exp(-(((hour - 11) / 3) ** 2))) * weekend
    sizes = np.linspace(2, 50, QUEUES) * scale
    calls = np.maximum(1.0, np.round(rng.poisson(np.outer(shape, sizes)).astype(float)))
    handle = np.broadcast_to(np.linspace(150, 420, QUEUES), calls.shape).copy()
    patience = np.broadcast_to(np.linspace(60, 300, QUEUES), calls.shape).copy()
    return calls, handle, patience


def best_of(repeat: int, run: Callable[[], object]) -> tuple[float, object]:
    best, result = math.inf, None
    for _ in range(repeat):
        started = time.perf_counter()
        result = run()
        best = min(best, time.perf_counter() - started)
    return best, result


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every queue's calls")
    args = parser.parse_args()
    try:
        from pyworkforce.queuing import ErlangC
    except ImportError:
        print("pyworkforce is not installed: pip install -e '.[bench]' (the baseline of this bench)")
        return 2
    calls, handle, patience = grid(args.scale)
    flat = calls.ravel(), handle.ravel(), patience.ravel()
    rate = flat[0] / (MINUTES * 60)

    def pyworkforce() -> list[int]:
        return [
            ErlangC(
                transactions=c,
                aht=h / 60,
                asa=TARGETS.answer_within / 60,
                interval=MINUTES,
                shrinkage=TARGETS.shrinkage,
            ).required_positions(service_level=TARGETS.service_level, max_occupancy=TARGETS.max_occupancy)[
                "raw_positions"
            ]
            for c, h in zip(flat[0], flat[1], strict=True)
        ]

    def erlang_a() -> np.ndarray:
        return staff_many(Cells(rate, flat[1], flat[2], TARGETS.answer_within), TARGETS)[0]

    def erlang_c() -> np.ndarray:
        return staff_many(Cells(rate, flat[1], np.full(rate.size, np.inf), TARGETS.answer_within), TARGETS)[0]

    baseline_s, baseline = best_of(args.repeat, pyworkforce)
    a_s, a_agents = best_of(args.repeat, erlang_a)
    c_s, c_agents = best_of(args.repeat, erlang_c)
    agree = int(np.sum(np.asarray(baseline) == np.asarray(c_agents)))
    cells = calls.size
    print(
        f"grid: {INTERVALS} intervals x {QUEUES} queues = {cells} cells, "
        f"{calls.min():.0f}-{calls.max():.0f} calls per {MINUTES} min, scale {args.scale:g}"
    )
    print(f"pyworkforce Erlang C : {baseline_s * 1000:8.1f} ms  ({baseline_s / cells * 1e6:6.1f} us/cell)")
    print(
        f"hotline Erlang A     : {a_s * 1000:8.1f} ms  ({a_s / cells * 1e6:6.1f} us/cell)  "
        f"{baseline_s / a_s:.2f}x faster than pyworkforce"
    )
    print(
        f"hotline Erlang C     : {c_s * 1000:8.1f} ms  ({c_s / cells * 1e6:6.1f} us/cell)  "
        f"{baseline_s / c_s:.2f}x faster than pyworkforce"
    )
    print(
        f"Erlang C agents equal to pyworkforce's raw positions in {agree} of {cells} cells; "
        f"Erlang A needs {int(np.sum(a_agents))} agent-intervals, Erlang C {int(np.sum(c_agents))}"
    )
    faster = a_s < baseline_s
    print("PASS: Erlang A is faster" if faster else "FAIL: Erlang A is not faster")
    return 0 if faster else 1


if __name__ == "__main__":
    sys.exit(main())
