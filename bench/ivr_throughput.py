"""IVR throughput: the full engine against a pure-dialplan menu of the same shape, in one run.

A private sandbox Asterisk 22 (own ports, own directory) runs two IVRs for the one-node menu of
``bench/ivr.yaml`` with a 1 s tone as its prompt:

* ``engine``: ``AGI(agi://127.0.0.1:16573/ivr,...)`` served by this process's event loop with
  the project's FastAGI server, ``IvrHandler`` and ``Engine``, and a ``CallAssembler`` whose
  records go through ``RecordWriter`` to SQLite (one record per call);
* ``dialplan``: ``Read()`` and one ``Set()`` per routing variable, rendered from the same
  document by walking the same engine, so both set the same variables for each key.

Calls need no SIP: AMI ``Originate`` of ``Local/s@<ivr>/n``; the other leg is the caller, who
waits for the prompt to start and end (``WaitForNoise``/``WaitForSilence``) and presses 2, or
with ``--caller fixed`` presses 2 a fixed 1.1 s after the answer. Both IVRs end in
``UserEvent(BenchDone)``. Rounds alternate the variants; a benchmark, not a test: it checks
only that the calls completed (exit status 1 otherwise).

    .venv/bin/python bench/ivr_throughput.py            # 2000 calls x 3 rounds per variant
    .venv/bin/python bench/ivr_throughput.py --quick    # smoke run: 400 calls x 1 round

Needs root (the sandbox chroot) and sox. Nothing is logged from AMI events or AGI headers.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import os
import pstats
import re
import resource
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any, Final

import yaml

from dialplan import variables as v
from dialplan.check import check
from hotline import logs
from hotline.db import make_engine, migrate
from hotline.sandbox import Sandbox, SandboxError
from hotline.settings import Settings, load_settings
from ivr.document import from_yaml
from ivr.engine import Engine, Route
from ivr.handler import IvrHandler, route_variables
from ivr.model import IvrDocument
from ivr.validation import validate
from metrics.records import CallAssembler
from metrics.store import RecordStore, RecordWriter
from telephony.agi import AgiChannel, AgiRequest
from telephony.ami_wire import WireAction, WireManager, wire_logger
from telephony.events import Hangup, QueueCallerJoin
from telephony.fastagi import FastAgiServer

HERE: Final = Path(__file__).resolve().parent
ROOT: Final = HERE.parent
DOCUMENT: Final = HERE / "ivr.yaml"

# Ports of their own: the tests use 14573/15038/15060/11000-11999, `make run` the defaults.
AMI_PORT: Final = 16038
SIP_PORT: Final = 16060
AGI_PORT: Final = 16573
HTTP_PORT: Final = 16080  # in the settings only; no HTTP server runs
RTP_PORTS: Final = (12000, 12999)

NODE: Final = "bench"
BENCH_USER: Final = "bench"
DIGIT: Final = "2"
TONE: Final = "bench/tone-1s"  # under the prompts directory, without extension
TONE_SECONDS: Final = 1.0
# Then digital silence: while the IVR waits for a key Asterisk sends no frames at all, so a
# listening caller can only hear the prompt end as silence inside the prompt file.
TAIL_SECONDS: Final = 0.5
ENGINE, DIALPLAN = "engine", "dialplan"
IVR_CONTEXT: Final = {ENGINE: "bench-engine", DIALPLAN: "bench-dialplan"}
CALLER_CONTEXT: Final = {"listen": "bench-caller-listen", "fixed": "bench-caller-fixed"}
MENU_CONTEXT: Final = "bench-dialplan-menu"
DONE_CONTEXT: Final = "bench-done"
DONE_EVENT: Final = "BenchDone"
NO_INPUT_EXTEN, INVALID_EXTEN = "t", "i"
EXTRA_MODULES: Final = ("app_senddtmf.so", "app_userevent.so", "app_waitforsilence.so")
_SAFE_VALUE: Final = re.compile(r"[A-Za-z0-9_-]*")
_CHANNELS: Final = re.compile(r"(\d+) active channels?")
_NEVER: Final = 10**9
_CLK_TCK: Final = os.sysconf("SC_CLK_TCK")


class BenchError(RuntimeError):
    """The bench cannot run; the message says what is missing."""


@dataclass(frozen=True)
class Plan:
    calls: int
    concurrency: int
    rounds: int
    caller: str
    ramp: float
    timeout: float


# -- configuration -------------------------------------------------------------------------------
def write_settings(tmp: Path) -> Path:
    """Like tests/e2e's e2e_config: a temp var dir, SQLite, ports of the bench's own."""
    data = yaml.safe_load((ROOT / "hotline.yaml").read_text(encoding="utf-8"))
    data.update(
        var_dir=str(tmp / "var"),
        database_url=f"sqlite:///{tmp / 'var' / 'hotline.sqlite3'}",
        log_level="WARNING",
        agi={"host": "127.0.0.1", "port": AGI_PORT},
        http={"host": "127.0.0.1", "port": HTTP_PORT},
        ivr_seed=str(DOCUMENT),
        prompts_dir=str(tmp / "sandbox" / "sounds"),
    )
    data["asterisk"][0].update(name=NODE, ami_port=AMI_PORT, config_dir=str(tmp / "sandbox" / "etc"))
    data["sandbox"] = {
        "directory": str(tmp / "sandbox"),
        "sip_port": SIP_PORT,
        "rtp_start": RTP_PORTS[0],
        "rtp_end": RTP_PORTS[1],
        "simulated_operators": 0,
    }
    path = tmp / "hotline.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def load_document() -> IvrDocument:
    doc = from_yaml(DOCUMENT.read_text(encoding="utf-8"))
    if issues := validate(doc):
        raise BenchError(f"{DOCUMENT.name}: " + "; ".join(str(i) for i in issues))
    return doc


def make_tone(settings: Settings) -> str:
    """A 1 s 440 Hz tone and a silent tail as 8 kHz 16-bit mono WAV; the path Asterisk plays."""
    if shutil.which("sox") is None:
        raise BenchError("sox is missing: apt-get install sox")
    wav = settings.prompts_dir / f"{TONE}.wav"
    wav.parent.mkdir(parents=True, exist_ok=True)
    command = ["sox", "-n", "-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer", str(wav)]
    effects = ["synth", str(TONE_SECONDS), "sine", "440", "gain", "-6", "pad", "0", str(TAIL_SECONDS)]
    subprocess.run([*command, *effects], check=True)
    return str(settings.asterisk_prompts_dir / TONE)


def make_engine_for(doc: IvrDocument, prompt: str) -> Engine:
    """Every prompt of the document plays the tone (the bench has one)."""
    paths = {(p, lang): prompt for p, by_lang in doc.prompts.items() for lang in by_lang}
    return Engine(1, doc, paths)


def menu_routes(engine: Engine) -> dict[str, Route]:
    """Dialplan extension -> the engine's route: each option, no input (t), a wrong key (i)."""
    doc = engine.document
    options = doc.menu.nodes[doc.menu.entry].options
    wrong = next(key for key in "0123456789*#" if key not in options)
    keys = {key: key for key in options} | {NO_INPUT_EXTEN: "", INVALID_EXTEN: wrong}
    routes: dict[str, Route] = {}
    for exten, pressed in keys.items():
        walk = engine.walk(datetime.now(UTC))
        walk.start()
        step = walk.answer(pressed)
        if not isinstance(step, Route):
            raise BenchError("the bench menu must route after one answer (one node, tries: 1)")
        routes[exten] = step
    return routes


def _menu_exten(exten: str, route: Route) -> str:
    lines = [f"exten => {exten},1,NoOp()"]
    for name, value in route_variables(route):
        if not _SAFE_VALUE.fullmatch(value):
            raise BenchError(f"route value {value!r} cannot go into the dialplan as is")
        lines.append(f" same => n,Set({name}={value})")
    lines.append(f" same => n,Goto({DONE_CONTEXT},s,1)")
    return "\n".join(lines)


def bench_dialplan(settings: Settings, engine: Engine, prompt: str) -> str:
    """The contexts appended to the rendered extensions.conf."""
    timeout = engine.document.menu.nodes[engine.document.menu.entry].timeout_seconds
    agi = f"agi://{settings.agi.reachable_host()}:{settings.agi.port}/{v.AGI_SCRIPT}"
    menu = "\n".join(_menu_exten(exten, route) for exten, route in menu_routes(engine).items())
    digit = '${IF($["${BENCH_DIGIT}" = ""]?%s:${BENCH_DIGIT})}' % NO_INPUT_EXTEN  # noqa: UP031
    headers = {"BenchId": "BENCHID", "Queue": v.QUEUE, "Result": v.IVR_RESULT, "Agi": "AGISTATUS"}
    done_headers = ",".join(f"{k}: ${{{var}}}" for k, var in headers.items()) + ",Call: ${CHANNEL(linkedid)}"
    return f"""
; ---- bench/ivr_throughput.py ----
; The caller's leg (;1): hears the prompt start and end, then presses {DIGIT}.
[{CALLER_CONTEXT["listen"]}]
exten => s,1,WaitForNoise(100,1,5)
 same => n,WaitForSilence(250,1,5)
 same => n,SendDTMF({DIGIT},,100)
 same => n,Wait(10)
 same => n,Hangup()

; The same caller pressing {DIGIT} a fixed 1.1 s after the answer.
[{CALLER_CONTEXT["fixed"]}]
exten => s,1,Wait(1.1)
 same => n,SendDTMF({DIGIT},,100)
 same => n,Wait(10)
 same => n,Hangup()

; The full engine: the FastAGI IVR, as hotline-entry calls it.
[{IVR_CONTEXT[ENGINE]}]
exten => s,1,Answer()
 same => n,Set({v.IVR_RESULT}=)
 same => n,Set({v.QUEUE}=${{HOTLINE_DEFAULT_QUEUE}})
 same => n,AGI({agi},${{CHANNEL(linkedid)}},{NODE})
 same => n,Goto({DONE_CONTEXT},s,1)

; The same menu in pure dialplan: Read, then one Set per routing variable.
[{IVR_CONTEXT[DIALPLAN]}]
exten => s,1,Answer()
 same => n,Set({v.IVR_RESULT}=)
 same => n,Set({v.QUEUE}=${{HOTLINE_DEFAULT_QUEUE}})
 same => n,Read(BENCH_DIGIT,{prompt},1,,1,{timeout})
 same => n,Goto({MENU_CONTEXT},{digit},1)

[{MENU_CONTEXT}]
{menu}

[{DONE_CONTEXT}]
exten => s,1,UserEvent({DONE_EVENT},{done_headers})
 same => n,Hangup()
"""


def bench_manager_user(secret: str) -> str:
    """A second AMI user: the hotline's eventfilter passes neither UserEvent nor OriginateResponse."""
    return f"""
; ---- bench/ivr_throughput.py ----
[{BENCH_USER}]
secret = {secret}
deny = 0.0.0.0/0.0.0.0
permit = 127.0.0.1/255.255.255.255
read = call,user
write = originate
writetimeout = 5000
eventfilter(action(include),name(UserEvent)) =
eventfilter(action(include),name(OriginateResponse)) =
"""


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def start_asterisk(box: Sandbox, doc: IvrDocument, extensions: str, ami_secret: str) -> None:
    """Sandbox.up() re-renders: render, append the bench's parts, check, then start."""
    box.ensure_root()
    if box.status().running:
        box.down()
    box.render(doc)
    etc = box.directory / "etc"
    _append(etc / "modules.conf", "".join(f"load = {m}\n" for m in EXTRA_MODULES))
    _append(etc / "extensions.conf", extensions)
    _append(etc / "manager.conf", bench_manager_user(ami_secret))
    check(etc, doc.queue_names())
    box._wait_booted(box._start())


def raise_open_files() -> int:
    """Asterisk inherits the limit: 250 Local pairs, their timers and AGI sockets need fds."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


# -- the full engine ---------------------------------------------------------------------------
class FullEngine:
    """FastAGI server + IvrHandler + Engine + CallAssembler -> RecordWriter -> SQLite."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.db = make_engine(settings.database_url)
        migrate(self.db)
        self.writer = RecordWriter(RecordStore(self.db))
        self.assembler = CallAssembler(self.writer.submit)
        self.ivr = IvrHandler(lambda: engine, self.assembler)
        self.agi = FastAgiServer(
            self._route,
            host=settings.agi.host,
            port=settings.agi.port,
            allowed_peers=frozenset(n.address for n in settings.asterisk),
        )

    async def _route(self, request: AgiRequest, channel: AgiChannel) -> None:
        if request.script == v.AGI_SCRIPT:
            await self.ivr(request, channel)

    def caller_left_queue(self, call_id: str, queue: str) -> None:
        """The scrubbed events the AMI consumer hands over when a routed caller joins the
        queue and hangs up there: the second finishes the record, the writer saves it."""
        at = datetime.now(UTC)
        self.assembler.on_event(QueueCallerJoin(NODE, at, call_id, call_id, queue, 1, 1))
        self.assembler.on_event(Hangup(NODE, at, call_id, call_id, 16))

    async def close(self) -> None:
        await self.agi.close()
        self.assembler.flush_all()
        await self.writer.close()
        self.db.dispose()


# -- the callers ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Done:
    at: float
    queue: str
    result: str
    agi: str
    call: str


class Callers:
    """Places calls with AMI Originate (Async) and hears their BenchDone user events."""

    def __init__(self, port: int, secret: str) -> None:
        self._port = port
        self._secret = secret
        self._waiting: dict[str, asyncio.Future[Done]] = {}
        self._manager: WireManager | None = None
        self.lost = asyncio.Event()
        self.callback_errors = 0

    async def connect(self) -> None:
        quiet = {"ping_delay": _NEVER, "ping_interval": _NEVER, "reconnect_timeout": _NEVER}
        manager = WireManager(
            self.lost.set,
            host="127.0.0.1",
            port=self._port,
            loop=asyncio.get_running_loop(),
            log=wire_logger(),
            events="on",
            **quiet,
        )
        manager.register_event("UserEvent", self._on_user_event)
        await manager.open(5)
        self._manager = manager
        login = {"Action": "Login", "Username": BENCH_USER, "Secret": self._secret, "Events": "on"}
        reply = await self._send(login, 5)
        if not getattr(reply, "success", False):
            raise BenchError("the bench AMI user could not log in")

    async def _send(self, action: dict[str, str], limit: float) -> Any:
        assert self._manager is not None
        request = WireAction(action)
        try:
            return await asyncio.wait_for(self._manager.send_action(request), limit)
        except TimeoutError:
            self._manager.forget(request)
            raise

    def expect(self, bench_id: str) -> asyncio.Future[Done]:
        future: asyncio.Future[Done] = asyncio.get_running_loop().create_future()
        self._waiting[bench_id] = future
        return future

    def forget(self, bench_id: str) -> None:
        self._waiting.pop(bench_id, None)

    async def originate(self, ivr: str, caller: str, bench_id: str, limit: float) -> bool:
        """True once the IVR leg answered (the OriginateResponse of the Async originate)."""
        action = {
            "Action": "Originate",
            "Channel": f"Local/s@{ivr}/n",
            "Context": caller,
            "Exten": "s",
            "Priority": "1",
            "Async": "true",
            "Variable": f"BENCHID={bench_id}",
        }
        try:
            replies = await self._send(action, limit)
        except (TimeoutError, ConnectionError):
            return False
        last = replies[-1] if isinstance(replies, list) and replies else replies
        return str(getattr(last, "get", lambda _k, _d="": "")("Response", "")) == "Success"

    def _on_user_event(self, _manager: Any, message: Any) -> None:
        """panoramisk callback: tiny and total. Reads four headers, logs nothing."""
        try:
            if message.get("UserEvent") != DONE_EVENT:
                return
            future = self._waiting.pop(str(message.get("BenchId", "")), None)
            if future is not None and not future.done():
                headers = (str(message.get(k, "")) for k in ("Queue", "Result", "Agi", "Call"))
                future.set_result(Done(time.perf_counter(), *headers))
        except Exception:
            self.callback_errors += 1

    def close(self) -> None:
        if self._manager is not None:
            self._manager.close()


# -- one round -----------------------------------------------------------------------------------
@dataclass
class Call:
    sent: float = 0.0
    done: float | None = None
    failure: str | None = None


@dataclass
class Round:
    variant: str
    number: int
    calls: list[Call]
    concurrency: int
    cpu_python: float = 0.0  # % of one core over the round
    cpu_asterisk: float = 0.0

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

    @property
    def rate(self) -> float:
        steady = self.rate_steady
        return self.rate_all if steady is None else steady

    def failures(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for call in self.calls:
            if call.failure is not None:
                counts[call.failure] = counts.get(call.failure, 0) + 1
        return counts


class Runner:
    def __init__(self, plan: Plan, callers: Callers, full: FullEngine, box: Sandbox, queue: str) -> None:
        self._plan = plan
        self._callers = callers
        self._full = full
        self._box = box
        self._queue = queue  # where pressing DIGIT routes

    async def round(self, variant: str, number: int) -> Round:
        plan = self._plan
        result = Round(variant, number, [Call() for _ in range(plan.calls)], plan.concurrency)
        slots = asyncio.Semaphore(plan.concurrency)
        tasks: list[asyncio.Task[None]] = []
        cpu = _cpu_now(self._box)
        start = time.perf_counter()
        for index, call in enumerate(result.calls):
            await slots.acquire()
            if index < plan.concurrency:  # ramp: spread the first calls over plan.ramp seconds
                await _sleep_until(start + index * plan.ramp / plan.concurrency)
            tag = f"{variant[0]}{number}-{index}"
            tasks.append(asyncio.create_task(self._call(variant, tag, call, slots)))
        await asyncio.gather(*tasks)
        result.cpu_python, result.cpu_asterisk = _cpu_share(cpu, _cpu_now(self._box), result.wall)
        return result

    async def _call(self, variant: str, tag: str, call: Call, slots: asyncio.Semaphore) -> None:
        plan = self._plan
        done = self._callers.expect(tag)
        call.sent = time.perf_counter()
        try:
            caller = CALLER_CONTEXT[plan.caller]
            if not await self._callers.originate(IVR_CONTEXT[variant], caller, tag, plan.timeout):
                call.failure = "originate"
                return
            try:
                heard = await asyncio.wait_for(done, plan.timeout)
            except TimeoutError:
                call.failure = "no BenchDone"
                return
            call.done = heard.at
            call.failure = self._judge(variant, heard)
            if variant == ENGINE and heard.call:
                self._full.caller_left_queue(heard.call, heard.queue)
        finally:
            self._callers.forget(tag)
            slots.release()

    def _judge(self, variant: str, heard: Done) -> str | None:
        if variant == ENGINE and heard.agi != "SUCCESS":
            return "AGI failed"
        if heard.result != v.IVR_OK or heard.queue != self._queue:
            return "wrong route"
        return None

    async def settle(self, limit: float = 30) -> None:
        """Between rounds: records saved, every channel of the last round gone."""
        await self._full.writer.flush()
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            text = await asyncio.to_thread(self._box.cli, "core show channels count")
            match = _CHANNELS.search(text)
            if match is not None and int(match.group(1)) == 0:
                return
            await asyncio.sleep(0.5)


async def _sleep_until(moment: float) -> None:
    delay = moment - time.perf_counter()
    if delay > 0:
        await asyncio.sleep(delay)


def _cpu_now(box: Sandbox) -> tuple[float, float]:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    asterisk = 0.0
    pid = box._pid()  # the pid file, not status(): that runs the CLI
    if pid is not None:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()
            asterisk = (int(fields[11]) + int(fields[12])) / _CLK_TCK
    return usage.ru_utime + usage.ru_stime, asterisk


def _cpu_share(before: tuple[float, float], after: tuple[float, float], wall: float) -> tuple[float, float]:
    if wall <= 0:
        return 0.0, 0.0
    return tuple(100 * (b - a) / wall for a, b in zip(before, after, strict=True))  # type: ignore[return-value]


# -- the run ---------------------------------------------------------------------------------------
@dataclass
class Outcome:
    rounds: list[Round] = field(default_factory=list)
    records_saved: int = 0
    records_open: int = 0
    callback_errors: int = 0
    agi_sessions: int = 0
    agi_errors: int = 0


def _order(number: int) -> tuple[str, str]:
    """Alternate which variant goes first, so neither always runs on a warmer machine."""
    return (DIALPLAN, ENGINE) if number % 2 else (ENGINE, DIALPLAN)


async def run(
    plan: Plan,
    settings: Settings,
    engine: Engine,
    box: Sandbox,
    ami_secret: str,
    profiler: cProfile.Profile | None,
) -> Outcome:
    full = FullEngine(settings, engine)
    callers = Callers(AMI_PORT, ami_secret)
    outcome = Outcome()
    try:
        await full.agi.start()
        await callers.connect()
        runner = Runner(plan, callers, full, box, _digit_queue(engine))
        for number in range(1, plan.rounds + 1):
            for variant in _order(number):
                await runner.settle()
                print(f"  round {number}: {variant} ...", file=sys.stderr, flush=True)
                with _profiling(profiler if variant == ENGINE else None):
                    outcome.rounds.append(await runner.round(variant, number))
        await runner.settle()
    finally:
        callers.close()
        outcome.records_open = full.assembler.open_calls
        outcome.agi_sessions, outcome.agi_errors = full.agi.sessions_total, full.agi.errors_total
        await full.close()
        outcome.records_saved = full.writer.saved_total
        outcome.callback_errors = callers.callback_errors
    return outcome


def _digit_queue(engine: Engine) -> str:
    route = menu_routes(engine)[DIGIT]
    assert route.queue is not None
    return route.queue


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


# -- the report ----------------------------------------------------------------------------------
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
        f"{'round':>5} {'variant':<9}{'sent':>6}{'done':>6}{'fail':>5}{'calls/s':>9}"
        f"{'(all)':>8}{'p50 ms':>8}{'p99 ms':>8}{'py cpu%':>8}{'ast cpu%':>9}"
    )
    for r in outcome.rounds:
        steady = "    -  " if r.rate_steady is None else f"{r.rate_steady:7.1f}"
        print(
            f"{r.number:>5} {r.variant:<9}{len(r.calls):>6}{len(r.completed):>6}"
            f"{len(r.calls) - len(r.completed):>5}  {steady}{r.rate_all:8.1f}"
            f"{_ms(percentile(r.latencies, 50))} {_ms(percentile(r.latencies, 99))}"
            f"{r.cpu_python:8.0f}{r.cpu_asterisk:9.0f}"
        )
    _summary(outcome)


def _summary(outcome: Outcome) -> None:
    by = {name: [r for r in outcome.rounds if r.variant == name] for name in (DIALPLAN, ENGINE)}
    rate = {name: statistics.median(r.rate for r in rounds) for name, rounds in by.items() if rounds}
    lat = {name: [x for r in rounds for x in r.latencies] for name, rounds in by.items()}
    print("\nsummary: calls/s = median of rounds (steady state where measured); times over all rounds")
    for name in (DIALPLAN, ENGINE):
        if name in rate:
            p50, p99 = percentile(lat[name], 50), percentile(lat[name], 99)
            print(f"  {name:<9} {rate[name]:7.1f} calls/s   p50 {_ms(p50)} ms   p99 {_ms(p99)} ms")
    if len(rate) == 2 and rate[DIALPLAN] > 0:
        ratios = [e.rate / d.rate for d, e in zip(by[DIALPLAN], by[ENGINE], strict=False) if d.rate]
        print(
            f"  ratio engine/dialplan: {rate[ENGINE] / rate[DIALPLAN]:.3f}x"
            f"  (per round: {', '.join(f'{x:.3f}' for x in ratios)};"
            " target >= 0.90x, bare panoramisk FastAGI 0.80x)"
        )
        for q in (50, 99):
            added = percentile(lat[ENGINE], q) - percentile(lat[DIALPLAN], q)
            print(f"  added time per call p{q}: {added * 1000:+.0f} ms")
    _failures(outcome)


def _failures(outcome: Outcome) -> None:
    totals: dict[str, int] = {}
    for r in outcome.rounds:
        for reason, count in r.failures().items():
            key = f"{r.variant}: {reason}"
            totals[key] = totals.get(key, 0) + count
    shown = ", ".join(f"{k} {n}" for k, n in sorted(totals.items())) or "none"
    engine_done = sum(len(r.completed) for r in outcome.rounds if r.variant == ENGINE)
    print(f"  failures: {shown}")
    print(
        f"  records saved: {outcome.records_saved} for {engine_done} completed engine calls"
        f" (left open: {outcome.records_open}); FastAGI sessions {outcome.agi_sessions},"
        f" errors {outcome.agi_errors}; event callback errors {outcome.callback_errors}"
    )


def print_profile(profiler: cProfile.Profile, path: Path | None, top: int = 30) -> None:
    if path is not None:
        profiler.dump_stats(str(path))
    stats = pstats.Stats(profiler, stream=sys.stdout)
    print(f"\ncProfile of the bench process's main thread during engine rounds (top {top} by own time)")
    stats.sort_stats(pstats.SortKey.TIME).print_stats(top)


# -- main ------------------------------------------------------------------------------------------
def parse_args(argv: Sequence[str] | None) -> tuple[Plan, argparse.Namespace]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--calls", type=int, default=2000, help="calls per round and variant")
    parser.add_argument("--concurrency", type=int, default=250)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="smoke run: 400 calls, 1 round")
    parser.add_argument("--caller", choices=sorted(CALLER_CONTEXT), default="listen")
    parser.add_argument("--ramp", type=float, default=1.0, help="seconds to start the first calls")
    parser.add_argument("--timeout", type=float, default=20.0, help="per call, seconds")
    parser.add_argument("--profile", action="store_true", help="cProfile the engine rounds")
    parser.add_argument("--profile-out", type=Path, help="also dump the cProfile stats here")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (config, logs, db)")
    args = parser.parse_args(argv)
    calls, rounds = (400, 1) if args.quick else (args.calls, args.rounds)
    if calls < 1 or rounds < 1 or args.concurrency < 1:
        parser.error("--calls, --rounds and --concurrency must be at least 1")
    return Plan(calls, args.concurrency, rounds, args.caller, args.ramp, args.timeout), args


def _terminate(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    plan, args = parse_args(argv)
    if os.geteuid() != 0:
        print("the sandbox Asterisk needs root (chroot, mounts)", file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, _terminate)
    logs.setup("WARNING")
    wire_logger()
    nofile = raise_open_files()
    tmp = Path(tempfile.mkdtemp(prefix="hotline-bench-"))
    box: Sandbox | None = None
    profiler = cProfile.Profile() if args.profile or args.profile_out else None
    try:
        settings = load_settings(write_settings(tmp))
        doc = load_document()
        tone = make_tone(settings)
        engine = make_engine_for(doc, tone)
        box = Sandbox(settings)
        ami_secret = secrets.token_urlsafe(24)
        print(f"starting the sandbox Asterisk in {box.directory} (open files: {nofile})", file=sys.stderr)
        start_asterisk(box, doc, bench_dialplan(settings, engine, tone), ami_secret)
        load = os.getloadavg()
        outcome = asyncio.run(run(plan, settings, engine, box, ami_secret, profiler))
    except (BenchError, SandboxError) as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    finally:
        if box is not None:
            box.down()
        if args.keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    report(plan, outcome)
    print(f"  machine: {os.cpu_count()} cores, load average before the run {load[0]:.2f}")
    if profiler is not None:
        print_profile(profiler, args.profile_out)
    expected = plan.calls * plan.rounds * 2
    return 0 if sum(len(r.completed) for r in outcome.rounds) == expected else 1


if __name__ == "__main__":
    sys.exit(main())
