"""What the IVR throughput bench prints: rounds, the summary, where a call's time went."""

from __future__ import annotations

import cProfile
import pstats
import statistics
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

from ivr_callers import Call, Plan
from ivr_sandbox import DIALPLAN, DIGIT, ENGINE

VARIANTS: Final = (DIALPLAN, ENGINE)
CPU_COLUMNS: Final = (("engine", 8), ("callers", 9), ("asterisk", 6), ("other", 7))
PHASES: Final = (
    "originate -> answered",
    "answered -> BenchDone",
    "  answered -> IVR handler start",
    "  IVR handler (GET DATA, EXEC MSet)",
    "  IVR handler end -> BenchDone",
)


@dataclass
class Round:
    variant: str
    number: int
    calls: list[Call]
    concurrency: int
    cpu_seconds: dict[str, float] = field(default_factory=dict)  # engine, callers, asterisk
    machine_busy: float = 0.0  # % of all cores, every process of the machine

    def cpu_share(self, process: str) -> float:
        """% of one core over the round."""
        return 100 * self.cpu_seconds.get(process, 0.0) / self.wall if self.wall else 0.0

    @property
    def completed(self) -> list[Call]:
        return [c for c in self.calls if c.done is not None and c.failure is None]

    @property
    def latencies(self) -> list[float]:
        return [c.done - c.sent for c in self.completed if c.done is not None]

    @property
    def wall(self) -> float:
        ends = [c.done for c in self.calls if c.done is not None]
        return (max(ends) - min(c.sent for c in self.calls)) if ends else 0.0

    @property
    def rate_all(self) -> float:
        return len(self.completed) / self.wall if self.wall > 0 else 0.0

    @property
    def rate_steady(self) -> float | None:
        """Completions per second while ``concurrency`` calls were in flight: from the last
        call of the ramp to the last call sent. None when that window is under 2 s."""
        if len(self.calls) <= self.concurrency:
            return None
        start, end = self.calls[self.concurrency - 1].sent, self.calls[-1].sent
        if end - start < 2.0:
            return None
        done = [c.done for c in self.completed if c.done is not None and start <= c.done <= end]
        return len(done) / (end - start)

    def failures(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for call in self.calls:
            if call.failure is not None:
                counts[call.failure] = counts.get(call.failure, 0) + 1
        return counts


@dataclass
class Outcome:
    rounds: list[Round] = field(default_factory=list)
    records_saved: int = 0
    records_open: int = 0
    feed_errors: int = 0
    agi_sessions: int = 0
    agi_errors: int = 0
    idle_busy: float = 0.0  # % of all cores busy over 2 s before the first round, Asterisk idle


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest rank; NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:7.0f}"


def report(plan: Plan, outcome: Outcome) -> None:
    print(
        f"\nIVR throughput: {plan.calls} calls per round at {plan.concurrency} concurrent,"
        f" {plan.rounds} round(s), caller '{plan.caller}', 1 s prompt, key {DIGIT}"
    )
    print(
        f"{'round':>5} {'variant':<9}{'sent':>6}{'done':>6}{'fail':>5}{'calls/s':>9}{'(all)':>8}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'engine%':>8}{'callers%':>9}{'ast%':>6}{'other%':>7}{'busy%':>7}"
    )
    for r in outcome.rounds:
        steady = "      -" if r.rate_steady is None else f"{r.rate_steady:7.1f}"
        cpu = "".join(f"{r.cpu_share(k):{w}.0f}" for k, w in CPU_COLUMNS) + f"{r.machine_busy:7.0f}"
        print(
            f"{r.number:>5} {r.variant:<9}{len(r.calls):>6}{len(r.completed):>6}"
            f"{len(r.calls) - len(r.completed):>5}  {steady}{r.rate_all:8.1f}"
            f"{_ms(percentile(r.latencies, 50))} {_ms(percentile(r.latencies, 99))}{cpu}"
        )
    print(
        "  cpu: % of one core (engine: the engine's process, which only follows BenchDone events"
        " in dialplan rounds; other: every other process of the machine, another engineer's run"
        " included: a round with a large figure there was disturbed); busy: % of all cores, whole machine"
    )
    _summary(outcome)
    _phases(outcome)
    _failures(outcome)


def _summary(outcome: Outcome) -> None:
    by = {name: [r for r in outcome.rounds if r.variant == name] for name in VARIANTS}
    steady = all(r.rate_steady is not None for r in outcome.rounds)

    def rate_of(r: Round) -> float:
        return (r.rate_steady or 0.0) if steady else r.rate_all

    rate = {name: statistics.median(rate_of(r) for r in rounds) for name, rounds in by.items() if rounds}
    lat = {name: [x for r in rounds for x in r.latencies] for name, rounds in by.items()}
    basis = "steady state" if steady else "completed / wall time (a round too short for a steady state)"
    print(f"\nsummary: calls/s = median of rounds, {basis}; times over all rounds")
    for name in VARIANTS:
        if name in rate:
            p50, p99 = percentile(lat[name], 50), percentile(lat[name], 99)
            print(f"  {name:<9} {rate[name]:7.1f} calls/s   p50 {_ms(p50)} ms   p99 {_ms(p99)} ms")
    if len(rate) < 2 or not rate[DIALPLAN]:
        return
    pairs = zip(by[DIALPLAN], by[ENGINE], strict=False)
    ratios = [rate_of(e) / rate_of(d) for d, e in pairs if rate_of(d)]
    print(
        f"  ratio engine/dialplan: {rate[ENGINE] / rate[DIALPLAN]:.3f}x"
        f"  (per round: {', '.join(f'{x:.3f}' for x in ratios)};"
        " target >= 0.90x, bare panoramisk FastAGI 0.80x)"
    )
    for q in (50, 99):
        added = percentile(lat[ENGINE], q) - percentile(lat[DIALPLAN], q)
        print(f"  added time per call p{q}: {added * 1000:+.0f} ms")
    _cpu_per_call(by)


def _cpu_per_call(by: dict[str, list[Round]]) -> None:
    """CPU time per completed call: what each variant costs the machine, load aside."""
    print("  cpu ms per completed call:")
    for name, rounds in by.items():
        done = sum(len(r.completed) for r in rounds)
        costs = (
            {k: sum(r.cpu_seconds.get(k, 0.0) for r in rounds) / done * 1000 for k, _ in CPU_COLUMNS}
            if done
            else {}
        )
        shown = ", ".join(f"{k} {ms:.2f}" for k, ms in costs.items())
        print(f"    {name:<9} {shown}")


def _spans(call: Call) -> dict[str, float]:
    """Where a completed call's time went (all times from CLOCK_MONOTONIC)."""
    if call.answered is None or call.done is None or call.failure is not None:
        return {}
    spans = dict(zip(PHASES[:2], (call.answered - call.sent, call.done - call.answered), strict=True))
    if call.session is not None:
        start, end = call.session
        spans.update(zip(PHASES[2:], (start - call.answered, end - start, call.done - end), strict=True))
    return spans


def _phases(outcome: Outcome) -> None:
    print(f"\n{'per-call phases, ms p50 / p99 over all rounds':<52}{DIALPLAN:>14}{ENGINE:>14}")
    spans = {
        name: [_spans(c) for r in outcome.rounds if r.variant == name for c in r.calls] for name in VARIANTS
    }
    for phase in PHASES:
        cells = []
        for name in VARIANTS:
            values = [s[phase] for s in spans[name] if phase in s]
            p50, p99 = percentile(values, 50) * 1000, percentile(values, 99) * 1000
            cells.append(f"{p50:6.0f} /{p99:5.0f}" if values else "-")
        print(f"  {phase:<50}{cells[0]:>14}{cells[1]:>14}")


def _failures(outcome: Outcome) -> None:
    totals: dict[str, int] = {}
    for r in outcome.rounds:
        for reason, count in r.failures().items():
            key = f"{r.variant}: {reason}"
            totals[key] = totals.get(key, 0) + count
    shown = ", ".join(f"{k} {n}" for k, n in sorted(totals.items())) or "none"
    engine_done = sum(len(r.completed) for r in outcome.rounds if r.variant == ENGINE)
    print(f"\n  failures: {shown}")
    print(
        f"  records saved: {outcome.records_saved} for {engine_done} completed engine calls"
        f" (left open: {outcome.records_open}); FastAGI sessions {outcome.agi_sessions},"
        f" errors {outcome.agi_errors}; event feed errors {outcome.feed_errors}"
    )


def print_profile(profiler: cProfile.Profile, path: Path | None, top: int = 30) -> None:
    if path is not None:
        profiler.dump_stats(str(path))
    print(f"\ncProfile of the engine's process (main thread) during engine rounds, top {top} by own time")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats(pstats.SortKey.TIME).print_stats(top)
