"""IVR throughput: the full engine against a pure-dialplan menu of the same shape, in one run.

A private sandbox Asterisk 22 (own ports, own directory) runs two IVRs for the one-node menu of
``bench/ivr.yaml``, whose prompt is a 1 s tone:

* ``engine``: ``AGI(agi://127.0.0.1:16573/ivr,...)`` served in this process's event loop by the
  project's FastAGI server, ``IvrHandler`` and ``Engine``; a ``CallAssembler`` folds the IVR's
  reports and the call's end (from an AMI event feed) into a record that ``RecordWriter``
  saves to SQLite, one per call;
* ``dialplan``: ``Read()`` and one ``Set()`` per routing variable, rendered from the same
  document by walking the same engine, so both set the same variables for each key.

The callers run in a process of their own (``ivr_callers.py``). Rounds alternate the
variants. A benchmark, not a test: it prints figures and checks only that the calls completed
(exit status 1 otherwise).

    .venv/bin/python bench/ivr_throughput.py            # 2000 calls x 3 rounds per variant
    .venv/bin/python bench/ivr_throughput.py --quick    # smoke run: 400 calls x 1 round
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import logging
import multiprocessing
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Final

import ivr_callers
import ivr_sandbox as box_config
from ivr_callers import QUIET, Call, Plan, RoundReply, RoundRequest, ami_login
from ivr_report import Outcome, Round, print_profile, report
from ivr_sandbox import DIALPLAN, ENGINE, BenchError

from core import logs
from core.db import make_engine, migrate
from core.settings import Settings, load_settings
from ivr.engine import Engine
from ivr.handler import IvrHandler, call_ref
from metrics.records.assembler import CallAssembler
from metrics.records.store import RecordStore
from metrics.records.writer import RecordWriter
from sandbox.asterisk import Sandbox, SandboxError
from telephony import variables as v
from telephony.agi import AgiRequest
from telephony.agi_channel import AgiChannel
from telephony.ami_wire import WireManager, wire_logger
from telephony.events import Hangup, QueueCallerJoin
from telephony.fastagi import FastAgiServer

HANGUP_NORMAL: Final = 16  # Q.850 normal clearing


# -- the engine's process ------------------------------------------------------------------------
class FullEngine:
    """FastAGI server + IvrHandler + Engine + CallAssembler -> RecordWriter -> SQLite."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.db = make_engine(settings.database_url)
        migrate(self.db)
        self.writer = RecordWriter(RecordStore(self.db))
        self.assembler = CallAssembler(self.writer.submit)
        self.ivr = IvrHandler(lambda: engine, self.assembler)
        self.sessions: dict[str, tuple[float, float]] = {}  # call id -> IVR handler start, end
        self.agi = FastAgiServer(
            self._route,
            host=settings.agi.host,
            port=settings.agi.port,
            allowed_peers=frozenset(n.address for n in settings.asterisk),
            secret=settings.agi.secret_value(),
        )

    async def _route(self, request: AgiRequest, channel: AgiChannel) -> None:
        if request.script != v.AGI_SCRIPT:
            return
        start = time.perf_counter()
        try:
            await self.ivr(request, channel)
        finally:
            self.sessions[call_ref(request).call_id] = (start, time.perf_counter())

    def caller_left_queue(self, call_id: str, queue: str) -> None:
        """The scrubbed events the AMI consumer hands over when a routed caller joins the
        queue and hangs up there: the second finishes the record, the writer saves it."""
        at = datetime.now(UTC)
        node = box_config.NODE
        self.assembler.on_event(QueueCallerJoin(node, at, call_id, call_id, queue, 1, 1))
        self.assembler.on_event(Hangup(node, at, call_id, call_id, HANGUP_NORMAL))

    async def close(self) -> None:
        await self.agi.close()
        self.assembler.flush_all()
        await self.writer.close()
        self.db.dispose()


class EndFeed:
    """An AMI connection of the engine's process: each engine call's BenchDone ends its record,
    as the queue events of a real call would."""

    def __init__(self, full: FullEngine, port: int, secret: str) -> None:
        self._full = full
        self._port = port
        self._secret = secret
        self._manager: WireManager | None = None
        self.errors = 0

    async def connect(self) -> None:
        loop = asyncio.get_running_loop()
        manager = WireManager(
            lambda: None, host="127.0.0.1", port=self._port, loop=loop, log=wire_logger(), **QUIET
        )
        manager.register_event("UserEvent", self._on_user_event)
        await ami_login(manager, box_config.FEED_USER, self._secret)
        self._manager = manager

    def _on_user_event(self, _manager: Any, message: Any) -> None:
        """panoramisk callback: tiny and total."""
        try:
            if message.get("UserEvent") == box_config.DONE_EVENT and message.get("Agi") == "SUCCESS":
                self._full.caller_left_queue(str(message.get("Call", "")), str(message.get("Queue", "")))
        except Exception:
            self.errors += 1

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()


# -- rounds --------------------------------------------------------------------------------------
def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _machine_jiffies() -> tuple[int, int]:
    """(busy, total) over all cores since boot, from /proc/stat."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        values = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = values[3] + values[4]  # idle, iowait
        return sum(values) - idle, sum(values)
    return 0, 0


async def _receive(conn: Connection) -> object:
    """The next message from the callers' process; a cancelled wait leaves no thread behind."""
    loop = asyncio.get_running_loop()
    readable: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not readable.done():
            readable.set_result(None)

    loop.add_reader(conn.fileno(), wake)
    try:
        await readable
    finally:
        loop.remove_reader(conn.fileno())
    return conn.recv()


async def _busy_over(seconds: float) -> float:
    before = _machine_jiffies()
    await asyncio.sleep(seconds)
    busy, total = (a - b for a, b in zip(_machine_jiffies(), before, strict=True))
    return 100 * busy / total if total else 0.0


def _counters(box: Sandbox) -> tuple[float, float, tuple[int, int]]:
    return _cpu_seconds(), box_config.asterisk_cpu_seconds(box), _machine_jiffies()


class Runner:
    """Asks the callers' process for each round; judges its calls; settles between rounds."""

    def __init__(self, plan: Plan, conn: Connection, full: FullEngine, box: Sandbox, queue: str) -> None:
        self._plan = plan
        self._conn = conn
        self._full = full
        self._box = box
        self._queue = queue  # where pressing the bench's key routes

    async def round(self, variant: str, number: int) -> Round:
        before = _counters(self._box)
        self._conn.send(RoundRequest(variant, number))
        reply = await _receive(self._conn)
        if not isinstance(reply, RoundReply):
            raise BenchError(f"the callers' process answered {reply!r}")
        after = _counters(self._box)
        result = Round(variant, number, reply.calls, self._plan.concurrency)
        for call in result.calls:
            self._judge(variant, call)
        result.cpu_seconds = {
            "engine": after[0] - before[0],
            "callers": reply.cpu_seconds,
            "asterisk": after[1] - before[1],
        }
        busy, total = (a - b for a, b in zip(after[2], before[2], strict=True))
        result.machine_busy = 100 * busy / total if total else 0.0
        ours = sum(result.cpu_seconds.values())
        result.cpu_seconds["other"] = max(0.0, busy / os.sysconf("SC_CLK_TCK") - ours)
        return result

    def _judge(self, variant: str, call: Call) -> None:
        call.session = self._full.sessions.pop(call.call_id, None)
        if call.failure is not None:
            return
        if variant == ENGINE and call.agi != "SUCCESS":
            call.failure = "AGI failed"
        elif call.result != v.IVR_OK or call.queue != self._queue:
            call.failure = "wrong route"

    async def settle(self, limit: float = 30) -> None:
        """Between rounds: every channel of the last round gone, its records saved."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if await asyncio.to_thread(box_config.channel_count, self._box) == 0:
                break
            await asyncio.sleep(0.5)
        await self._full.writer.flush()


def _order(number: int) -> tuple[str, str]:
    """Alternate which variant goes first, so neither always runs on a warmer machine."""
    return (DIALPLAN, ENGINE) if number % 2 else (ENGINE, DIALPLAN)


async def run(
    plan: Plan,
    settings: Settings,
    engine: Engine,
    box: Sandbox,
    conn: Connection,
    secret: str,
    profiler: cProfile.Profile | None,
    perf_dir: Path | None = None,
) -> Outcome:
    full = FullEngine(settings, engine)
    feed = EndFeed(full, box_config.AMI_PORT, secret)
    outcome = Outcome()
    main_task = asyncio.current_task()
    if main_task is not None:  # SIGTERM as Ctrl-C: cancel, clean up below, then stop
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, main_task.cancel)
    try:
        await full.agi.start()
        await feed.connect()
        outcome.idle_busy = await _busy_over(2.0)
        runner = Runner(plan, conn, full, box, box_config.digit_queue(engine))
        for number in range(1, plan.rounds + 1):
            for variant in _order(number):
                await runner.settle()
                print(f"  round {number}: {variant} ...", file=sys.stderr, flush=True)
                perf_out = perf_dir / f"{variant}-{number}.data" if perf_dir else None
                with _profiling(profiler if variant == ENGINE else None), _perf_recording(box, perf_out):
                    outcome.rounds.append(await runner.round(variant, number))
        await runner.settle()
    finally:
        if main_task is not None and main_task.cancelling():
            # Python 3.11's asyncio logs every cancelled FastAGI session with a traceback
            # (StreamReaderProtocol calls task.exception() on it); nothing to learn here.
            logging.getLogger("asyncio").setLevel(logging.CRITICAL)
        feed.close()
        outcome.records_open = full.assembler.open_calls
        outcome.agi_sessions, outcome.agi_errors = full.agi.sessions_total, full.agi.errors_total
        await full.close()
        outcome.records_saved, outcome.feed_errors = full.writer.backlog().saved_total, feed.errors
    return outcome


@contextlib.contextmanager
def _profiling(profiler: cProfile.Profile | None) -> Iterator[None]:
    if profiler is None:
        yield
        return
    profiler.enable()
    try:
        yield
    finally:
        profiler.disable()


@contextlib.contextmanager
def _perf_recording(box: Sandbox, out: Path | None) -> Iterator[None]:
    """``perf record -g`` of the Asterisk process for one round (where Asterisk's CPU goes)."""
    pid = box._pid()
    if out is None or pid is None:
        yield
        return
    cmd = ["perf", "record", "-q", "-g", "-F", "499", "-p", str(pid), "-o", str(out)]
    recorder = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield
    finally:
        recorder.send_signal(signal.SIGINT)
        recorder.wait(30)


# -- main ------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> tuple[Plan, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per round and variant")
    parser.add_argument("--concurrency", type=int, default=250, help="calls in flight")
    parser.add_argument("--rounds", type=int, default=3, help="rounds; each runs both variants")
    parser.add_argument("--quick", action="store_true", help="smoke run: 400 calls, 1 round")
    parser.add_argument(
        "--caller",
        choices=sorted(box_config.CALLER_CONTEXT),
        default="listen",
        help="listen: press after hearing the prompt end; fixed: press 1.1 s after the answer",
    )
    parser.add_argument("--ramp", type=float, default=1.0, help="seconds over which the first calls start")
    parser.add_argument("--timeout", type=float, default=20.0, help="per call and step, seconds")
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the engine's process in engine rounds"
    )
    parser.add_argument("--profile-out", type=Path, help="also write the cProfile stats to this file")
    parser.add_argument("--perf", type=Path, help="perf record Asterisk per round into this directory")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (config, logs, database)")
    args = parser.parse_args(argv)
    calls, rounds = (400, 1) if args.quick else (args.calls, args.rounds)
    if calls < 1 or rounds < 1 or args.concurrency < 1:
        parser.error("--calls, --rounds and --concurrency must be at least 1")
    return Plan(calls, args.concurrency, rounds, args.caller, args.ramp, args.timeout), args


CallerProcess = tuple[multiprocessing.process.BaseProcess, Connection]


def start_callers(plan: Plan, secret: str) -> CallerProcess:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    args = (theirs, plan, box_config.AMI_PORT, secret)
    process = context.Process(target=ivr_callers.serve, args=args, name="bench-callers", daemon=True)
    process.start()
    theirs.close()
    hello = ours.recv() if ours.poll(60) else "no answer in 60 s"
    if hello != "ready":
        stop_callers((process, ours))
        raise BenchError(f"the callers' process: {hello}")
    return process, ours


def stop_callers(callers: CallerProcess) -> None:
    process, conn = callers
    with contextlib.suppress(OSError):
        conn.send(None)
    process.join(10)
    if process.is_alive():
        process.terminate()
        process.join(5)
    conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    plan, args = parse_args(argv)
    if os.geteuid() != 0:
        print("bench: the sandbox Asterisk needs root (chroot, mounts)", file=sys.stderr)
        return 2
    logs.setup("WARNING")
    wire_logger()
    nofile = box_config.raise_open_files()
    tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    box: Sandbox | None = None
    callers: CallerProcess | None = None
    profiler = cProfile.Profile() if args.profile or args.profile_out else None
    try:
        settings = load_settings(box_config.write_settings(tmp))
        doc = box_config.load_document()
        tone = box_config.make_tone(settings)
        engine = box_config.make_engine(doc, tone)
        box = Sandbox(settings)
        secret = secrets.token_urlsafe(24)
        print(f"starting the sandbox Asterisk in {box.directory} (open files {nofile})", file=sys.stderr)
        box_config.start_asterisk(box, doc, box_config.bench_dialplan(settings, engine, tone), secret)
        callers = start_callers(plan, secret)
        outcome = asyncio.run(run(plan, settings, engine, box, callers[1], secret, profiler, args.perf))
    except (BenchError, SandboxError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    except (KeyboardInterrupt, asyncio.CancelledError):
        print("bench: interrupted; the sandbox and the callers are stopped", file=sys.stderr)
        return 130
    finally:
        if callers is not None:
            stop_callers(callers)
        if box is not None:
            box.down()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    report(plan, outcome)
    print(f"  machine: {os.cpu_count()} cores, {outcome.idle_busy:.0f}% busy before the first round")
    if profiler is not None:
        print_profile(profiler, args.profile_out)
    return 0 if sum(len(r.completed) for r in outcome.rounds) == plan.calls * plan.rounds * 2 else 1


if __name__ == "__main__":
    sys.exit(main())
