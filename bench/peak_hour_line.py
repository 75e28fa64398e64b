"""The peak-hour bench's line: private settings per phase, the IVR document, the Asterisk nodes.

Each phase gets a temp directory of its own (settings, SQLite, var dir, each node's sandbox
directory), so its service and Asterisk processes start fresh. The nodes are not managed by the
service (no ``config_dir``): the bench renders each node's configuration as the sandbox does,
appends its callers' contexts, a probe queue and an AMI user of its own, checks the result and
starts Asterisk; a publish by the service would re-render and drop the appended parts.
"""

from __future__ import annotations

import secrets
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import yaml

from core.settings import Settings
from dialplan.check import check
from dialplan.render_nodes import local_queue_names
from ivr.document import IvrDocument
from sandbox.asterisk import Sandbox

ROOT: Final = Path(__file__).resolve().parent.parent

# Ports of this bench only (tests: 14573/15038/15060/17xxx/18080 and +1000 beside; ivr_sandbox
# 16038/16060/16573/16080; wallboard_latency 16180; `make run` the defaults).
HTTP_PORT: Final = 16280
AGI_PORT: Final = 16673
NODE_NAMES: Final = ("a", "b")
AMI_PORTS: Final = {"a": 16138, "b": 16238}
SIP_PORTS: Final = {"a": 16160, "b": 16260}
RTP_PORTS: Final = {"a": (21000, 21499), "b": (21500, 21999)}

BENCH_USER: Final = "peakbench"  # the bench's own AMI user on every node
CALLER_CONTEXT: Final = "peak-caller"  # the caller's leg (;1) of each Originate
GONE_CONTEXT: Final = "peak-gone"  # the caller's hangup handler: UserEvent PeakGone
PROBE_CONTEXT: Final = "peak-probe"  # the wallboard probe's leg in its queue
PROBE_QUEUE: Final = "peak-probe"
GONE_EVENT: Final = "PeakGone"
ENTRY_CONTEXT: Final = "hotline-entry"
EXTRA_MODULES: Final = ("app_senddtmf.so", "app_waitforsilence.so")
BENCH_EVENTS: Final = (
    "UserEvent",
    "OriginateResponse",
    "AgentConnect",
    "QueueCallerJoin",
    "QueueCallerLeave",
    "QueueCallerAbandon",
)

# key -> (topic, queue); 0 is "an operator" (the fallback queue). Weights: the callers' mix.
KEYS: Final = {"1": "crisis", "2": "violence", "3": "loss", "4": "addiction", "0": "main"}
KEY_WEIGHTS: Final = {"1": 20, "2": 20, "3": 25, "4": 25, "0": 10}
QUEUES: Final = ("main", "crisis", "violence", "loss", "addiction")


class BenchError(RuntimeError):
    """The bench cannot run; the message says what is missing."""


@dataclass(frozen=True)
class LineSpec:
    nodes: int
    operators_per_queue: int  # per queue and node
    talk_seconds: int
    database_url: str | None


def document(announce_every: int) -> dict[str, Any]:
    """Five queues with music on hold, the caller's position and a periodic prompt of the line's
    own; one menu of four topics and the operator; crisis overflows to main after 45 s."""

    def queue(name: str) -> dict[str, Any]:  # each its own dicts: YAML aliases are refused
        said = {"position": True, "every_seconds": announce_every, "periodic_prompt": "hold"}
        return {
            "name": name,
            "wrapup_seconds": 2,
            "announcements": {**said, "periodic_seconds": announce_every},
        }

    topics = [
        {"id": "crisis", "names": {"en": "Crisis"}, "queue": "crisis", "priority": 10,
         "overflow": {"queue": "main", "after_seconds": 45}},
        {"id": "violence", "names": {"en": "Violence"}, "queue": "violence", "priority": 5},
        {"id": "loss", "names": {"en": "Loss"}, "queue": "loss"},
        {"id": "addiction", "names": {"en": "Addiction"}, "queue": "addiction"},
    ]  # fmt: skip
    options: dict[str, Any] = {key: {"action": "topic", "topic": t} for key, t in KEYS.items() if key != "0"}
    options["0"] = {"action": "operator"}
    return {
        "languages": ["en"],
        "default_language": "en",
        "fallback_queue": "main",
        "queues": [queue(name) for name in QUEUES],
        "topics": topics,
        "prompts": {
            "menu": {"en": {"text": "Crisis one. Violence two. Loss three. Addiction four. Operator zero."}},
            "hold": {"en": {"text": "Thank you for waiting. Someone will answer you soon."}},
        },
        "menu": {
            "entry": "root",
            "nodes": {"root": {"prompt": "menu", "timeout_seconds": 4, "tries": 1, "options": options}},
        },
    }


def write_settings(tmp: Path, spec: LineSpec, announce_every: int) -> Path:
    """Like tests/e2e/test_nodes.py's line_config: a temp var dir, ports of the bench's own."""
    data = yaml.safe_load((ROOT / "hotline.yaml").read_text(encoding="utf-8"))
    tmp.mkdir(parents=True, exist_ok=True)
    seed = tmp / "peak-ivr.yaml"
    seed.write_text(yaml.safe_dump(document(announce_every), allow_unicode=True), encoding="utf-8")
    var = tmp / "var"
    data.update(
        var_dir=str(var),
        database_url=spec.database_url or f"sqlite:///{var / 'hotline.sqlite3'}",
        log_level="WARNING",
        log_file=str(var / "log" / "hotline.log"),
        agi={"host": "127.0.0.1", "port": AGI_PORT},
        http={"host": "127.0.0.1", "port": HTTP_PORT},
        ivr_seed=str(seed),
        prompts_dir=str(tmp / "a" / "sounds"),
        referral_trunk="127.0.0.1:16290",
    )
    nodes: list[dict[str, Any]] = []
    for name in NODE_NAMES[: spec.nodes]:
        node: dict[str, Any] = {"name": name, "ami_port": AMI_PORTS[name]}  # no config_dir: ours
        if name != NODE_NAMES[0]:
            start, end = RTP_PORTS[name]
            node["sandbox"] = {
                "directory": str(tmp / name), "sip_port": SIP_PORTS[name], "rtp_start": start, "rtp_end": end,
            }  # fmt: skip
        nodes.append(node)
    data["asterisk"] = nodes
    start, end = RTP_PORTS["a"]
    data["sandbox"] = {
        "directory": str(tmp / "a"),
        "sip_port": SIP_PORTS["a"],
        "rtp_start": start,
        "rtp_end": end,
        "simulated_operators": spec.operators_per_queue,
        "simulated_hold_seconds": spec.talk_seconds,
    }
    path = tmp / "hotline.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def bench_dialplan() -> str:
    """The callers' leg: a hangup handler that says when the call ended, the prompt heard start,
    the key (the first character of PEAKID), then the wait: the bench hangs up a caller whose
    patience ran out; an answered one ends when the operator hangs up."""
    return f"""
; ---- bench/peak_hour.py ----
[{CALLER_CONTEXT}]
exten => s,1,Set(CHANNEL(hangup_handler_push)={GONE_CONTEXT},s,1)
 same => n,WaitForNoise(100,1,20)
 same => n,Wait(0.3)
 same => n,SendDTMF(${{PEAKID:0:1}},,100)
 same => n,Wait(7200)
 same => n,Hangup()

[{GONE_CONTEXT}]
exten => s,1,UserEvent({GONE_EVENT},PeakId: ${{PEAKID}})
 same => n,Return()

; The wallboard probe: one caller at a time in a queue of its own, gone after a second.
[{PROBE_CONTEXT}]
exten => s,1,Answer()
 same => n,Set(CALLERID(all)=anonymous <anonymous>)
 same => n,Queue({PROBE_QUEUE})
 same => n,Hangup()
"""


def probe_queue() -> str:
    return f"""
; ---- bench/peak_hour.py: the wallboard probe ----
[{PROBE_QUEUE}]
strategy = leastrecent
joinempty = yes
leavewhenempty = no
musicclass = default
"""


def bench_manager_user(secret: str) -> str:
    filters = "".join(f"eventfilter(action(include),name({event})) =\n" for event in BENCH_EVENTS)
    return (
        f"\n; ---- bench/peak_hour.py ----\n[{BENCH_USER}]\nsecret = {secret}\n"
        "deny = 0.0.0.0/0.0.0.0\npermit = 127.0.0.1/255.255.255.255\n"
        f"read = call,agent,user\nwrite = system,call,originate\nwritetimeout = 5000\n{filters}"
    )


def _append(path: Path, text: str) -> None:
    with path.open("a", encoding="utf-8") as fh:
        fh.write(text)


def start_node(box: Sandbox, doc: IvrDocument, bench_secret: str) -> None:
    """Render as the sandbox does, append the bench's parts, check, start, wait for the boot."""
    box.ensure_root()
    if box.status().running:
        box.down()
    box._ports_free()
    box.render(doc)
    etc = box.directory / "etc"
    _append(etc / "modules.conf", "".join(f"load = {m}\n" for m in EXTRA_MODULES))
    _append(etc / "extensions.conf", bench_dialplan())
    _append(etc / "queues.conf", probe_queue())
    _append(etc / "manager.conf", bench_manager_user(bench_secret))
    check(etc, [*local_queue_names(doc, box.node.name), PROBE_QUEUE])
    box._wait_booted(box._start())


def start_nodes(settings: Settings, doc: IvrDocument) -> tuple[list[Sandbox], str]:
    """Every node of the phase's line, started; the bench's AMI secret."""
    if shutil.which("unshare") is None:
        raise BenchError("unshare is missing (util-linux)")
    secret = secrets.token_hex(16)
    boxes = [Sandbox(settings, node.name) for node in settings.asterisk]
    for box in boxes:
        start_node(box, doc, secret)
    return boxes, secret
