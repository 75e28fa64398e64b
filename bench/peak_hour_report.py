"""The peak-hour bench's figures: one column per phase, then two nodes / one node."""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from peak_hour_callers import Call
from peak_hour_line import PROBE_QUEUE
from peak_hour_service import Sample
from sqlalchemy import text

from core.db import make_engine

_USUAL = ("answered", "abandoned_in_queue")


@dataclass
class Records:
    by_outcome: Counter[str] = field(default_factory=Counter)
    probes: int = 0  # the wallboard probe's calls (its own queue)
    missing: int = 0  # placed calls without a record
    extra: int = 0  # records of no placed call (the probe's aside)


@dataclass
class Phase:
    name: str
    nodes: int
    operators: int
    calls: list[Call] = field(default_factory=list)
    records: Records = field(default_factory=Records)
    lags: list[float] = field(default_factory=list)
    wallboard: list[float] = field(default_factory=list)
    probe_events: int = 0
    frames: int = 0
    frame_kb: float = 0.0
    ami_events: float = 0.0  # the service's hotline_ami_events_total, every node
    start: dict[str, Sample] = field(default_factory=dict)  # process -> at the first call
    end: dict[str, Sample] = field(default_factory=dict)  # process -> once drained
    load: tuple[tuple[float, ...], tuple[float, ...]] = ((), ())
    seconds: float = 0.0  # the first call to the last one gone
    callback_errors: int = 0

    @property
    def placed(self) -> list[Call]:
        return [c for c in self.calls if c.call_id]

    @property
    def completed(self) -> int:
        return sum(1 for c in self.calls if c.gone is not None)

    @property
    def answered(self) -> int:
        return sum(1 for c in self.calls if c.gone is not None and c.connected)

    @property
    def abandoned(self) -> int:
        return sum(1 for c in self.calls if c.gone is not None and not c.connected and c.hung_up)

    def mean_length(self) -> float | None:
        lengths = [c.gone - c.answered for c in self.calls if c.gone is not None and c.answered is not None]
        return sum(lengths) / len(lengths) if lengths else None

    def failures(self) -> Counter[str]:
        return Counter(c.failure for c in self.calls if c.failure)

    def all_recorded(self) -> bool:
        return self.records.missing == 0 and sum(self.records.by_outcome.values()) == len(self.placed)

    def cpu_ms_per_call(self, process: str) -> float | None:
        a, b = self.start.get(process), self.end.get(process)
        if a is None or b is None or not self.completed:
            return None
        return (b.cpu - a.cpu) * 1000 / self.completed


def count_records(database_url: str, since: datetime, calls: list[Call], within: float) -> Records:
    """The phase's records once written: polled until every placed call has one, or ``within``
    seconds pass with no new record."""
    placed = {(c.node, c.call_id) for c in calls if c.call_id}
    engine = make_engine(database_url)
    query = text("SELECT node, call_id, queue, outcome FROM call_records WHERE started_at >= :since")
    try:
        seen, last_change = -1, time.monotonic()
        while True:
            with engine.connect() as db:
                rows = db.execute(query, {"since": since}).all()
            if len(rows) != seen:
                seen, last_change = len(rows), time.monotonic()
            found = {(r.node, r.call_id) for r in rows if r.queue != PROBE_QUEUE}
            if placed <= found or time.monotonic() - last_change > within:
                break
            time.sleep(1)
    finally:
        engine.dispose()
    ours = [r for r in rows if r.queue != PROBE_QUEUE]
    return Records(
        by_outcome=Counter(r.outcome for r in ours),
        probes=len(rows) - len(ours),
        missing=len(placed - found),
        extra=len(found - placed),
    )


def percentile(values: list[float], share: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(share * len(ordered)) - 1))]


def _fmt(value: float | int | str | None, digits: int = 1) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, int):
        return str(value)
    return f"{value:.{digits}f}"


def _ratio(a: float | int | str | None, b: float | int | str | None) -> str:
    if not isinstance(a, int | float) or not isinstance(b, int | float) or not a:
        return ""
    return f"{b / a:.2f}x"


def _ms(values: list[float], share: float) -> float | None:
    found = percentile(values, share)
    return None if found is None else found * 1000


def rows(p: Phase, processes: list[str]) -> list[tuple[str, float | int | str | None]]:
    r = p.records
    out: list[tuple[str, float | int | str | None]] = [
        ("Asterisk nodes", p.nodes),
        ("simulated operators", p.operators),
        ("calls placed (IVR leg answered)", len(p.placed)),
        ("  originate failed (or no reply in 120 s)", p.failures().get("originate", 0)),
        ("calls completed (ended)", p.completed),
        ("  answered by an operator", p.answered),
        ("  abandoned (patience)", p.abandoned),
        ("  ended otherwise", p.completed - p.answered - p.abandoned),
        ("  never ended (hung up by the bench)", p.failures().get("never ended", 0)),
        ("records written", sum(r.by_outcome.values())),
        ("  answered", r.by_outcome.get("answered", 0)),
        ("  abandoned_in_queue", r.by_outcome.get("abandoned_in_queue", 0)),
        ("  other outcomes", sum(n for o, n in r.by_outcome.items() if o not in _USUAL)),
        ("  placed calls without a record", r.missing),
        ("  records of no placed call", r.extra),
        ("records == calls placed", "yes" if p.all_recorded() else "NO"),
        ("calls/min completed", p.completed / (p.seconds / 60) if p.seconds else None),
        ("call length mean (s, answer to end)", p.mean_length()),
        ("AMI event lag p50 (ms)", _ms(p.lags, 0.5)),
        ("AMI event lag p99 (ms)", _ms(p.lags, 0.99)),
        ("AMI event lag max (ms)", _ms(p.lags, 1.0)),
        ("  events read by the bench", len(p.lags)),
        ("  events handled by the service", p.ami_events),
        ("wallboard latency p50 (ms)", _ms(p.wallboard, 0.5)),
        ("wallboard latency p99 (ms)", _ms(p.wallboard, 0.99)),
        ("  probe events seen / sent", f"{len(p.wallboard)}/{p.probe_events}"),
        ("  SSE frames (KB each)", f"{p.frames} ({p.frame_kb:.1f})"),
    ]  # fmt: skip
    for process in processes:
        out.append((f"CPU ms per completed call: {process}", p.cpu_ms_per_call(process)))
    for process in processes:
        a, b = (s.rss_mb if s else None for s in (p.start.get(process), p.end.get(process)))
        out.append((f"RSS MB start / end: {process}", f"{_fmt(a, 0)} / {_fmt(b, 0)}"))
    out.append(("load average at start", " ".join(f"{x:.1f}" for x in p.load[0])))
    out.append(("load average at end", " ".join(f"{x:.1f}" for x in p.load[1])))
    return out


def _process_order(name: str) -> tuple[int, str]:
    return (["service", "asterisk a", "asterisk b", "asterisks", "bench"].index(name), name)


def add_totals(p: Phase) -> None:
    """'asterisks': every node's Asterisk together."""
    for samples in (p.start, p.end):
        found = [s for name, s in samples.items() if name.startswith("asterisk ")]
        if found:
            samples["asterisks"] = Sample(sum(s.cpu for s in found), sum(s.rss_mb for s in found))


def report(phases: list[Phase]) -> None:
    processes = sorted({name for p in phases for name in (*p.start, *p.end)}, key=_process_order)
    tables = [rows(p, processes) for p in phases]
    labels = list(dict.fromkeys(label for table in tables for label, _ in table))
    values = [dict(table) for table in tables]
    head = f"{'':42s}" + "".join(f"{p.name:>18s}" for p in phases)
    if len(phases) == 2:
        head += f"{'2 nodes / 1':>14s}"
    print(head)
    for label in labels:
        cells = [v.get(label) for v in values]
        line = f"{label:42s}" + "".join(f"{_fmt(c):>18s}" for c in cells)
        if len(phases) == 2 and label not in ("Asterisk nodes", "simulated operators"):
            line += f"{_ratio(cells[0], cells[1]):>14s}"
        print(line)
    for p in phases:
        if not p.all_recorded():
            print(
                f"\n!!! {p.name}: records != calls placed: {len(p.placed)} placed, "
                f"{sum(p.records.by_outcome.values())} records, {p.records.missing} placed calls"
                " without a record !!!"
            )
        if p.callback_errors:
            print(f"{p.name}: {p.callback_errors} AMI callback errors in the bench")
