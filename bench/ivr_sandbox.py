"""The bench's Asterisk: private settings, the 1 s prompt, and the dialplan of both IVRs.

The sandbox renders the hotline's own configuration; the bench appends its contexts, two AMI
users of its own and three modules (SendDTMF, UserEvent, WaitForNoise/WaitForSilence), checks
the result with ``dialplan.check`` and starts Asterisk (``Sandbox.up()`` would re-render).
"""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import Final

import yaml

from core.settings import Settings
from dialplan.check import check
from ivr.codec import from_yaml
from ivr.document import IvrDocument
from ivr.engine import Engine, Route
from ivr.handler import route_variables
from ivr.validation import validate
from sandbox.asterisk import Sandbox
from telephony import variables as v

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
CALLER_USER: Final = "bench"  # originates calls, hears OriginateResponse and BenchDone
FEED_USER: Final = "benchfeed"  # the engine process's event feed: BenchDone only
DIGIT: Final = "2"
TONE: Final = "bench/tone-1s"  # under the prompts directory, without extension
TONE_SECONDS: Final = 1.0
# Then digital silence: while an IVR waits for a key Asterisk sends no frames at all, so a
# listening caller can only hear the prompt end as silence inside the prompt file.
TAIL_SECONDS: Final = 0.5
ENGINE: Final = "engine"
DIALPLAN: Final = "dialplan"
IVR_CONTEXT: Final = {ENGINE: "bench-engine", DIALPLAN: "bench-dialplan"}
CALLER_CONTEXT: Final = {"listen": "bench-caller-listen", "fixed": "bench-caller-fixed"}
MENU_CONTEXT: Final = "bench-dialplan-menu"
DONE_CONTEXT: Final = "bench-done"
DONE_EVENT: Final = "BenchDone"
NO_INPUT_EXTEN, INVALID_EXTEN = "t", "i"
EXTRA_MODULES: Final = ("app_senddtmf.so", "app_userevent.so", "app_waitforsilence.so")
_SAFE_VALUE: Final = re.compile(r"[A-Za-z0-9_-]*")
_CHANNELS: Final = re.compile(r"(\d+) active channels?")


class BenchError(RuntimeError):
    """The bench cannot run; the message says what is missing."""


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


def make_engine(doc: IvrDocument, prompt: str) -> Engine:
    """Every prompt of the document plays the tone (the bench document has one)."""
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


def digit_queue(engine: Engine) -> str:
    """Where pressing :data:`DIGIT` routes."""
    queue = menu_routes(engine)[DIGIT].queue
    if queue is None:
        raise BenchError(f"key {DIGIT} of the bench menu must route to a queue")
    return queue


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

; The full engine: the FastAGI IVR, called as hotline-entry calls it.
[{IVR_CONTEXT[ENGINE]}]
exten => s,1,Answer()
 same => n,Set({v.IVR_RESULT}=)
 same => n,Set({v.QUEUE}=${{HOTLINE_DEFAULT_QUEUE}})
 same => n,AGI({agi},{settings.agi.secret_value()},${{CHANNEL(linkedid)}},{NODE})
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


def _manager_user(name: str, secret: str, read: str, write: str, events: tuple[str, ...]) -> str:
    filters = "".join(f"eventfilter(action(include),name({event})) =\n" for event in events)
    return (
        f"\n[{name}]\nsecret = {secret}\ndeny = 0.0.0.0/0.0.0.0\npermit = 127.0.0.1/255.255.255.255\n"
        f"read = {read}\nwrite = {write}\nwritetimeout = 5000\n{filters}"
    )


def bench_manager_users(secret: str) -> str:
    """The hotline user's eventfilter passes neither UserEvent nor OriginateResponse."""
    return "\n; ---- bench/ivr_throughput.py ----" + (
        _manager_user(CALLER_USER, secret, "call,user", "originate", ("UserEvent", "OriginateResponse"))
        + _manager_user(FEED_USER, secret, "user", "", ("UserEvent",))
    )


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def start_asterisk(box: Sandbox, doc: IvrDocument, extensions: str, ami_secret: str) -> None:
    """Render as the sandbox does, append the bench's parts, check, start, wait for the boot."""
    box.ensure_root()
    if box.status().running:
        box.down()
    box.render(doc)
    etc = box.directory / "etc"
    _append(etc / "modules.conf", "".join(f"load = {m}\n" for m in EXTRA_MODULES))
    _append(etc / "extensions.conf", extensions)
    _append(etc / "manager.conf", bench_manager_users(ami_secret))
    check(etc, doc.queue_names())
    box._wait_booted(box._start())


def raise_open_files() -> int:
    """Asterisk inherits the limit: 250 Local pairs, their timers and AGI sockets need fds."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def channel_count(box: Sandbox) -> int | None:
    match = _CHANNELS.search(box.cli("core show channels count"))
    return int(match.group(1)) if match else None


def asterisk_cpu_seconds(box: Sandbox) -> float:
    """CPU time of the Asterisk process, all threads (the pid file, not status(): no CLI)."""
    pid = box._pid()
    if pid is None:
        return 0.0
    with contextlib.suppress(OSError, IndexError, ValueError):
        fields = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return 0.0
