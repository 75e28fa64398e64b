"""What keeping calls in progress on disk costs the event loop: the call assembler fed the reports
and queue events of whole calls (IVR start, route, join, connect, complete, hangup), with its
keeper (metrics/records/inflight.py: one JSON line appended per change) against the same
assembler without one (the baseline), rounds alternating, in the same run.

    .venv/bin/python bench/inflight.py                  # 20,000 calls x 5 rounds per variant
    .venv/bin/python bench/inflight.py --calls 5000 --rounds 3 --open 500

``--open``: calls kept open across the run (a busy line), so compaction has work to do. Printed:
the median round's microseconds of CPU per call, calls per second, the ratio to the baseline,
the file's size at the end, and the machine's load average before and after.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.types import CallRef
from ivr.engine import Route, RouteKind, RouteReason
from metrics.records.assembler import CallAssembler
from metrics.records.inflight import FILE_NAME, InFlightLog
from metrics.records.record import CallRecord
from telephony.events import AgentComplete, AgentConnect, Hangup, QueueCallerJoin

T0 = datetime(2026, 12, 7, 10, 0, tzinfo=UTC)
ROUTE = Route(RouteKind.QUEUE, RouteReason.CHOSEN, "ru", "1", ("root",), queue="crisis", topic="crisis")


def one_call(a: CallAssembler, n: int) -> None:
    call_id = f"1796640000.{n}"
    call, at = CallRef("local", call_id), T0 + timedelta(seconds=n)
    a.ivr_started(call, at, "ru", "7")
    a.ivr_routed(call, at + timedelta(seconds=4), ROUTE)
    a.on_event(QueueCallerJoin("local", at + timedelta(seconds=4), call_id, call_id, "crisis", 1, 1))
    a.on_event(AgentConnect("local", at + timedelta(seconds=9), call_id, call_id, "crisis", "op-1", 5, 1))
    a.on_event(
        AgentComplete("local", at + timedelta(seconds=99), call_id, call_id, "crisis", "op-1", 5, 90, "agent")
    )
    a.on_event(Hangup("local", at + timedelta(seconds=99), call_id, call_id, 16))


def run_round(calls: int, keep_open: int, keeper: bool) -> tuple[float, int]:
    """CPU seconds for ``calls`` whole calls; the keeper's file size at the end."""
    out: list[CallRecord] = []
    with tempfile.TemporaryDirectory() as tmp:
        log = InFlightLog(Path(tmp)) if keeper else None
        a = CallAssembler(out.append, clock=lambda: T0, keeper=log)
        for n in range(keep_open):  # calls still in the IVR all through the round
            a.ivr_started(CallRef("local", f"open.{n}"), T0, "ru", "7")
        started = time.process_time()
        for n in range(calls):
            one_call(a, n)
        spent = time.process_time() - started
        size = (Path(tmp) / FILE_NAME).stat().st_size if log else 0
        if log:
            log.close()
    assert len(out) == calls
    return spent, size


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--open", type=int, default=200, help="calls kept open all through")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    times: dict[bool, list[float]] = {False: [], True: []}
    size = 0
    for _ in range(args.rounds):
        for keeper in (False, True):
            spent, got = run_round(args.calls, args.open, keeper)
            times[keeper].append(spent)
            size = got or size
    base = statistics.median(times[False])
    for keeper, name in ((False, "baseline (no keeper)"), (True, "keeper (open-calls.jsonl)")):
        median = statistics.median(times[keeper])
        per_call = median / args.calls * 1e6
        ratio = "baseline" if not keeper else f"{median / base:.2f}x the baseline's CPU per call"
        print(f"{name:28} {per_call:7.1f} µs CPU per call  {args.calls / median:9,.0f} calls/s   {ratio}")
    print(f"file at the end of a round: {size:,} bytes with {args.open} calls open")
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
