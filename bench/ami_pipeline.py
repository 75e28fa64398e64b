"""The AMI pipeline against raw panoramisk parsing of the same bytes, in one run.

A synthetic AMI stream (Newchannel, QueueCallerJoin, AgentCalled, AgentConnect,
QueueCallerLeave, AgentComplete, QueueMemberStatus, Hangup ..., every event with the full
channel snapshot app_queue sends: caller numbers +7900000xxxx in CallerIDNum, ConnectedLineNum,
Dest* twins, Exten, channel names and ChanVariable lines) is fed, in 64 KiB chunks as a socket
would deliver it, to two panoramisk protocols:

* ``raw``: panoramisk's ``AMIProtocol.data_received`` (split, ``Message.from_line``, dispatch)
  into the project's ``WireManager`` with no callbacks: parsing alone;
* ``pipeline``: the same, into the ``WireManager`` an ``AmiNode`` builds (callbacks for every
  subscribed event): ``telephony.events.parse_event`` (scrub) -> the composition root's
  ``EventFanout`` -> ``QueueBoard``, ``OperatorBoard``, ``HotlineMetrics`` and
  ``CallAssembler`` -> finished records to ``HotlineMetrics.on_record`` and a counter (the
  database writer runs on its own thread in service and is left out).

Batches of calls are generated (untimed), then fed to both, alternating who goes first. Prints
events/s of each and the ratio pipeline / raw, and RSS (plus, with ``--tracemalloc``, Python's
traced memory) every ``--report-every`` events, to show memory stays flat.

    .venv/bin/python bench/ami_pipeline.py                     # 1,000,000 events each
    .venv/bin/python bench/ami_pipeline.py --events 200000 --profile
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import gc
import io
import pstats
import sys
import time
import tracemalloc
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from prometheus_client import CollectorRegistry

from agents.state import OperatorBoard
from hotline.wiring import EventFanout
from metrics.live.board import QueueBoard
from metrics.live.prometheus import HotlineMetrics
from metrics.records.assembler import CallAssembler
from metrics.records.record import CallRecord
from privacy.scanner import Scanner
from telephony.ami import AmiEndpoint, AmiNode
from telephony.ami_wire import WireManager, WireProtocol

CHUNK: Final = 65536
QUEUES: Final = ("main", "crisis", "violence", "loss", "addiction", "legal")
OPERATORS: Final = 24
T0: Final = 1_795_000_000.0

SNAPSHOT = (
    "Channel: PJSIP/{num}-{seq:08x}\r\nChannelState: 6\r\nChannelStateDesc: Up\r\n"
    "CallerIDNum: +{num}\r\nCallerIDName: Synth Caller {idx}\r\n"
    "ConnectedLineNum: <unknown>\r\nConnectedLineName: <unknown>\r\nLanguage: ru\r\n"
    "AccountCode: \r\nContext: hotline-queue\r\nExten: {num}\r\nPriority: 6\r\n"
    "Uniqueid: {uid}\r\nLinkedid: {uid}\r\n"
    "ChanVariable: HOTLINE_LANG=ru\r\nChanVariable: CALLERID(num)=+{num}\r\n"
)
DEST = (
    "DestChannel: PJSIP/{op}-{seq2:08x}\r\nDestChannelState: 6\r\nDestChannelStateDesc: Up\r\n"
    "DestCallerIDNum: +{num}\r\nDestCallerIDName: Synth Caller {idx}\r\n"
    "DestConnectedLineNum: +{num}\r\nDestConnectedLineName: Synth Caller {idx}\r\n"
    "DestLanguage: ru\r\nDestAccountCode: \r\nDestContext: operators\r\nDestExten: {num}\r\n"
    "DestPriority: 1\r\nDestUniqueid: {uid}1\r\nDestLinkedid: {uid}\r\n"
    "DestChanVariable: HOTLINE_LANG=ru\r\nDestChanVariable: CALLERID(num)=+{num}\r\n"
)
MEMBER = (
    "Event: QueueMemberStatus\r\nPrivilege: agent,all\r\nTimestamp: {ts:.6f}\r\nQueue: {queue}\r\n"
    "MemberName: {op}\r\nInterface: PJSIP/{op}\r\nStateInterface: PJSIP/{op}\r\nMembership: static\r\n"
    "Penalty: 0\r\nCallsTaken: {taken}\r\nLastCall: 0\r\nLastPause: 0\r\nLoginTime: 0\r\nInCall: {incall}\r\n"
    "Status: {status}\r\nPaused: 0\r\nPausedReason: \r\nRingtime: 0\r\nWrapuptime: 0\r\n\r\n"
)


def _event(name: str, ts: float, body: str, extra: str = "") -> str:
    head = f"Event: {name}\r\nPrivilege: agent,all\r\nTimestamp: {ts:.6f}\r\nSystemName: bench\r\n"
    return f"{head}{body}{extra}\r\n"


def caller_number(idx: int) -> str:
    return f"+7900{idx % 10_000_000:07d}"


def call_events(idx: int, start: float) -> list[tuple[float, str]]:
    """One call's events (answered, or one in ten abandoned in the queue), with their times."""
    num = caller_number(idx).lstrip("+")
    uid = f"{int(start)}.{idx}"
    queue, op = QUEUES[idx % len(QUEUES)], f"op-{idx % OPERATORS:02d}"
    values = {"num": num, "seq": idx, "seq2": idx + 1, "idx": idx, "uid": uid, "op": op}
    snap = SNAPSHOT.format(**values)
    dest = DEST.format(**values)
    q = f"Queue: {queue}\r\n"
    out = [
        (start, _event("Newchannel", start, snap)),
        (start + 5, _event("QueueCallerJoin", start + 5, snap, q + "Position: 1\r\nCount: 1\r\n")),
        (
            start + 5.1,
            _event(
                "AgentCalled", start + 5.1, snap + dest, q + f"MemberName: {op}\r\nInterface: PJSIP/{op}\r\n"
            ),
        ),
    ]
    if idx % 10 == 9:
        hold = "HoldTime: 9\r\n"
        out += [
            (
                start + 14,
                _event(
                    "QueueCallerAbandon",
                    start + 14,
                    snap,
                    q + "Position: 1\r\nOriginalPosition: 1\r\n" + hold,
                ),
            ),
            (start + 14, _event("QueueCallerLeave", start + 14, snap, q + "Position: 1\r\nCount: 0\r\n")),
            (
                start + 14.1,
                _event("Hangup", start + 14.1, snap, "Cause: 16\r\nCause-txt: Normal Clearing\r\n"),
            ),
        ]
        return out
    agent = q + f"MemberName: {op}\r\nInterface: PJSIP/{op}\r\nHoldTime: 2\r\n"
    member = {"queue": queue, "op": op, "taken": idx // OPERATORS}
    out += [
        (start + 7, _event("AgentConnect", start + 7, snap + dest, agent + "RingTime: 2\r\n")),
        (start + 7, _event("QueueCallerLeave", start + 7, snap, q + "Position: 1\r\nCount: 0\r\n")),
        (start + 7.01, MEMBER.format(ts=start + 7.01, incall=1, status=2, **member)),
        (
            start + 40,
            _event("AgentComplete", start + 40, snap + dest, agent + "TalkTime: 33\r\nReason: agent\r\n"),
        ),
        (start + 40.01, MEMBER.format(ts=start + 40.01, incall=0, status=1, **member)),
        (start + 40.02, _event("Hangup", start + 40.02, dest.replace("Dest", ""), "Cause: 16\r\n")),
        (start + 40.03, _event("Hangup", start + 40.03, snap, "Cause: 16\r\nCause-txt: Normal Clearing\r\n")),
    ]
    return out


def batch(first_call: int, calls: int) -> tuple[bytes, int]:
    """``calls`` calls starting 1.5 s apart (about 27 at once), merged in time order."""
    events = [e for i in range(first_call, first_call + calls) for e in call_events(i, T0 + 1.5 * i)]
    events.sort(key=lambda e: e[0])
    return "".join(text for _, text in events).encode("ascii"), len(events)


class NullTransport:
    def write(self, data: bytes) -> None:
        pass

    def close(self) -> None:
        pass


def protocol(manager: WireManager) -> WireProtocol:
    proto = WireProtocol()
    proto.connection_made(NullTransport())
    proto.factory = manager
    proto.version = "bench"
    return proto


@dataclass
class Pipeline:
    records: int = 0
    metrics: HotlineMetrics = field(default_factory=lambda: HotlineMetrics(CollectorRegistry(), QUEUES))
    board: QueueBoard = field(default_factory=QueueBoard)
    operators: OperatorBoard = field(default_factory=OperatorBoard)
    assembler: CallAssembler | None = None
    fanout: EventFanout | None = None
    last: deque[CallRecord] = field(default_factory=lambda: deque(maxlen=1000))

    def __post_init__(self) -> None:
        self.assembler = CallAssembler(self._finished)
        self.fanout = EventFanout(
            [self.board.on_event, self.operators.on_event, self.metrics.on_event, self.assembler.on_event]
        )

    def _finished(self, record: CallRecord) -> None:
        self.metrics.on_record(record)
        self.records += 1
        self.last.append(record)


def raw_manager() -> WireManager:
    return WireManager(lambda: None, host="127.0.0.1", port=0, events="on", loop=asyncio.get_running_loop())


def pipeline_manager(pipeline: Pipeline) -> tuple[AmiNode, WireManager]:
    assert pipeline.fanout is not None
    node = AmiNode(AmiEndpoint("local", "127.0.0.1", 0, "bench", "bench"), pipeline.fanout)
    return node, node._new_manager()  # exactly the manager (and callbacks) a live session uses


def feed(proto: WireProtocol, data: bytes) -> float:
    started = time.perf_counter()
    for offset in range(0, len(data), CHUNK):
        proto.data_received(data[offset : offset + CHUNK])
    return time.perf_counter() - started


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@dataclass
class Totals:
    calls: int = 0
    events: int = 0
    raw_s: float = 0.0
    pipe_s: float = 0.0
    bytes: int = 0


def memory_line(totals: Totals, pipeline: Pipeline, node: AmiNode, traced: bool) -> str:
    assert pipeline.assembler is not None
    line = (
        f"{totals.events:>10,} events  RSS {rss_mib():7.1f} MiB"
        f"  open calls {pipeline.assembler.open_calls:>4}"
        f"  records {pipeline.records:>8,}  delivered {node.status.events_total:>9,}"
    )
    if traced:
        current, peak = tracemalloc.get_traced_memory()
        line += f"  traced {current / 2**20:6.1f} MiB (peak {peak / 2**20:6.1f})"
    return line


def run_batches(args: argparse.Namespace, step: Callable[[Totals, bytes, int, int], None]) -> Totals:
    totals = Totals()
    call, n = 0, 0
    while totals.events < args.events:
        data, count = batch(call, args.batch_calls)
        call += args.batch_calls
        step(totals, data, count, n)
        totals.calls = call
        n += 1
    return totals


async def bench(args: argparse.Namespace) -> int:
    pipeline = Pipeline()
    node, manager = pipeline_manager(pipeline)
    raw, piped = protocol(raw_manager()), protocol(manager)
    if args.tracemalloc:
        tracemalloc.start()
    profiler = cProfile.Profile() if args.profile else None
    next_report = [0]
    print(
        f"AMI pipeline bench: {args.events:,} events each,"
        f" batches of {args.batch_calls} calls, chunks of {CHUNK} B"
    )
    print(memory_line(Totals(), pipeline, node, args.tracemalloc))

    def step(totals: Totals, data: bytes, count: int, n: int) -> None:
        gc.collect()
        if n % 2 == 0:
            totals.raw_s += feed(raw, data)
        if profiler is not None:
            profiler.enable()
        totals.pipe_s += feed(piped, data)
        if profiler is not None:
            profiler.disable()
        if n % 2 == 1:
            totals.raw_s += feed(raw, data)
        totals.events += count
        totals.bytes += len(data)
        if totals.events >= next_report[0]:
            print(memory_line(totals, pipeline, node, args.tracemalloc), flush=True)
            next_report[0] += args.report_every

    totals = run_batches(args, step)
    print(memory_line(totals, pipeline, node, args.tracemalloc))
    raw_rate, pipe_rate = totals.events / totals.raw_s, totals.events / totals.pipe_s
    print(
        f"\nstream: {totals.events:,} events, {totals.bytes / 2**20:,.0f} MiB"
        f" ({totals.bytes / totals.events:.0f} B/event)"
    )
    print(f"raw panoramisk parse+dispatch: {raw_rate:>9,.0f} events/s  ({totals.raw_s:.2f} s)")
    print(f"pipeline (parse, scrub, state, records): {pipe_rate:>9,.0f} events/s  ({totals.pipe_s:.2f} s)")
    print(f"ratio pipeline / raw: {pipe_rate / raw_rate:.2f}x")
    errors = pipeline.fanout.errors_total if pipeline.fanout else 0
    print(f"records finished: {pipeline.records:,}; events delivered: {node.status.events_total:,}")
    print(f"consumer errors: {errors}; parse failures: {node.status.events_failed}")
    scanner = Scanner(caller_number(i) for i in range(max(0, totals.calls - 2000), totals.calls))
    leaks = scanner.scan_text("records", "\n".join(map(repr, pipeline.last)))
    print(f"caller numbers in the last {len(pipeline.last)} records: {len(leaks)}")
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.profile_top)
        print("\nprofile of the pipeline runs (tottime):")
        print(out.getvalue())
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000, help="events per variant (1,000,000)")
    parser.add_argument("--batch-calls", type=int, default=2000, help="calls generated per batch (2000)")
    parser.add_argument("--report-every", type=int, default=100_000, help="memory line every N events")
    parser.add_argument(
        "--tracemalloc", action="store_true", help="also print Python's traced memory (slower)"
    )
    parser.add_argument("--profile", action="store_true", help="cProfile the pipeline runs")
    parser.add_argument("--profile-top", type=int, default=25)
    args = parser.parse_args()
    try:
        return asyncio.run(bench(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
