"""Peak hour (issue 22, item 4): one node against two, same callers, same operators, one run.

Each phase runs the real service as its own process (``python -m hotline.cli serve``, a private
temp config, SQLite unless ``--database-url``) and the sandbox Asterisk of each node of its line
(sandbox/asterisk.py, own ports). The line's five queues play music on hold, each caller's
position and a periodic prompt of the line's own; ``--operators`` simulated operators are spread
over the queues (and the nodes). ``--callers`` callers are in flight at once during ``--minutes``:
each is an AMI Originate (Async) of ``Local/s@hotline-entry/n`` on a node (in turn), walks the
FastAGI IVR with a topic's key, waits in its queue, and gives up after its patience. Then the
calls in flight drain and the service's records are counted.

Phases: ``1 node`` (every caller on node a, every operator there), then ``2 nodes`` (callers
split over a and b, the operators too). Figures per phase and as a ratio two nodes / one node:
calls placed, completed (answered / abandoned), records (must equal calls placed), AMI event lag
(Asterisk's Timestamp against the moment the bench reads the event), the wallboard's latency (a
probe caller's queue events against the first SSE frame that shows them), CPU ms per completed
call and memory of each process, the machine's load.

    flock /tmp/hotline-e2e.lock .venv/bin/python bench/peak_hour.py --quick
    flock /tmp/hotline-e2e.lock .venv/bin/python bench/peak_hour.py --callers 200 --operators 40 --minutes 3
    flock /tmp/hotline-e2e.lock .venv/bin/python bench/peak_hour.py    # 500 callers, 100 operators, 10 min

Needs root (the sandbox chroot). Exit status: 0 every call accounted (ended, recorded once),
1 some were not, 2 the bench could not run, 130 interrupted (Asterisk and the service stopped).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from peak_hour_callers import NodeLink, Plan, place_calls, probe_loop
from peak_hour_line import AMI_PORTS, QUEUES, ROOT, BenchError, LineSpec, start_nodes, write_settings
from peak_hour_report import Phase, add_totals, count_records, report
from peak_hour_service import Service, WallboardStream, sample, wallboard_latencies

from core.settings import load_settings
from dialplan.live import live_document
from sandbox.asterisk import Sandbox, SandboxError

RECORDS_WITHIN: Final = 60.0  # seconds without a new record before the count is final


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--callers", type=int, default=500, help="callers in flight at once (500)")
    parser.add_argument("--operators", type=int, default=100, help="simulated operators in all (100)")
    parser.add_argument("--minutes", type=float, default=10.0, help="callers start this long per phase (10)")
    parser.add_argument("--talk", type=int, default=30, help="an operator's call, seconds (30)")
    parser.add_argument("--patience", default="90-120", help="a caller waits this long, seconds (90-120)")
    parser.add_argument("--ramp", type=float, default=30.0, help="first callers spread over (30 s)")
    parser.add_argument("--nodes", choices=("1", "2", "both"), default="both", help="phases (both)")
    parser.add_argument("--database-url", help="the service's database (default: SQLite per phase)")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (configs, logs, SQLite)")
    parser.add_argument("--quick", action="store_true", help="smoke size: 60 callers, 10 operators, 1 min")
    args = parser.parse_args(argv)
    if args.quick:
        args.callers, args.operators, args.minutes = 60, 10, 1.0
        args.talk, args.patience, args.ramp = 10, "20-30", 5.0
    try:
        low, high = (float(x) for x in args.patience.split("-", 1))
    except ValueError:
        parser.error("--patience: LOW-HIGH seconds, e.g. 90-120")
    if not 0 < low <= high or args.callers < 1 or args.minutes <= 0 or args.talk < 1:
        parser.error("--patience, --callers, --minutes and --talk must be positive")
    if args.operators < len(QUEUES) * (1 if args.nodes == "1" else 2):
        parser.error(f"--operators: at least one per queue ({len(QUEUES)}) and node")
    args.patience_range = (low, high)
    return args


def _raise_open_files() -> int:
    """Asterisk and the service inherit the limit: hundreds of channels, AGI sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def _samples(service: Service, boxes: list[Sandbox]) -> dict[str, Any]:
    found = {"service": sample(service.pid), "bench": sample(os.getpid())}
    for box in boxes:
        found[f"asterisk {box.node.name}"] = sample(box._pid())
    return {name: s for name, s in found.items() if s is not None}


async def _run_phase(args: argparse.Namespace, tmp: Path, nodes: int) -> Phase:
    per_queue = args.operators // (len(QUEUES) * nodes)
    spec = LineSpec(nodes, per_queue, args.talk, args.database_url)
    announce = 15 if args.quick else 30
    settings = load_settings(write_settings(tmp, spec, announce))
    name = "1 node" if nodes == 1 else f"{nodes} nodes"
    phase = Phase(name, nodes, per_queue * len(QUEUES) * nodes)
    print(f"[{_now()}] {name}: starting Asterisk x{nodes} and the service", flush=True)
    boxes: list[Sandbox] = []
    service = Service(tmp / "hotline.yaml", settings.var_dir)
    links: list[NodeLink] = []
    stream: WallboardStream | None = None
    try:
        boxes, secret = await asyncio.to_thread(start_nodes, settings, live_document(settings))
        await asyncio.to_thread(service.start)
        stream = WallboardStream(service.url, await asyncio.to_thread(service.reading_token))
        stream.start()
        await asyncio.to_thread(stream.ready.wait, 30)
        links = [NodeLink(box.node.name, AMI_PORTS[box.node.name], secret) for box in boxes]
        for link in links:
            await link.connect()
        await asyncio.sleep(3)  # the service's AMI resync and the wallboard settle
        plan = Plan(args.callers, args.minutes * 60, args.patience_range, args.talk, args.ramp)
        phase.load = (os.getloadavg(), ())
        phase.start = _samples(service, boxes)
        since, started = datetime.now(UTC), time.perf_counter()
        print(f"[{_now()}] {name}: {args.callers} callers for {args.minutes:g} min", flush=True)
        probe = asyncio.create_task(probe_loop(links[0]))
        try:
            phase.calls = await place_calls(links, plan, str(nodes))
        finally:
            probe.cancel()
        phase.seconds = time.perf_counter() - started
        await asyncio.sleep(2)  # the last probe's events reach the wallboard
        phase.end = _samples(service, boxes)
        phase.load = (phase.load[0], os.getloadavg())
        stream.stop()
        phase.lags = [lag for link in links for lag in link.lags]
        probe_events = [e for link in links for e in link.probe_events]
        phase.probe_events = len(probe_events)
        phase.wallboard = wallboard_latencies(probe_events, list(stream.frames))
        phase.frames = stream.count
        phase.frame_kb = stream.bytes / 1024 / max(1, stream.count)
        phase.callback_errors = sum(link.callback_errors for link in links)
        phase.ami_events = sum((await asyncio.to_thread(service.ami_events)).values())
        print(f"[{_now()}] {name}: calls drained after {phase.seconds:.0f} s; counting records", flush=True)
        phase.records = await asyncio.to_thread(
            count_records, settings.database_url, since, phase.calls, RECORDS_WITHIN
        )
        add_totals(phase)
        return phase
    finally:
        if stream is not None:
            stream.stop()
        for link in links:
            link.close()
        await asyncio.to_thread(service.stop)
        for box in boxes:
            await asyncio.to_thread(box.down)


def _now() -> str:
    return datetime.now(UTC).strftime("%H:%M:%S")


def _head(args: argparse.Namespace) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.strip()
    print(
        f"peak hour, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, HEAD {commit}, {os.cpu_count()} cores;"
        f" {args.callers} callers in flight, {args.operators} operators, {args.minutes:g} min per phase,"
        f" talk {args.talk} s, patience {args.patience} s, ramp {args.ramp:g} s;"
        f" database {'given' if args.database_url else 'SQLite'}; open files {_raise_open_files()}",
        flush=True,
    )


async def _run(args: argparse.Namespace, tmp: Path) -> list[Phase]:
    nodes = {"1": [1], "2": [2], "both": [1, 2]}[args.nodes]
    phases = []
    for n in nodes:
        phases.append(await _run_phase(args, tmp / f"phase-{n}", n))
    return phases


def _interrupted(_signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if os.geteuid() != 0:
        print("peak_hour: needs root (the sandbox chroot)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _interrupted)
    tmp = Path(tempfile.mkdtemp(prefix="hotline-peak-"))
    try:
        _head(args)
        load = os.getloadavg()
        phases = asyncio.run(_run(args, tmp))
        print(f"\nload average: before {' '.join(f'{x:.2f}' for x in load)},"
              f" after {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")  # fmt: skip
        report(phases)
    except KeyboardInterrupt:
        print("\npeak_hour: interrupted; Asterisk and the service stopped", file=sys.stderr)
        return 130
    except (BenchError, SandboxError, OSError, ConnectionError) as exc:
        print(f"peak_hour: cannot run: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"kept: {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    accounted = all(p.all_recorded() and not p.failures() for p in phases)
    return 0 if accounted else 1


if __name__ == "__main__":
    with contextlib.suppress(BrokenPipeError):
        sys.exit(main())
