"""Issue 22 on the real Asterisk: two nodes, one line.

Two sandbox Asterisk processes (nodes "a" and "b", each its own directory and SIP, AMI and RTP
ports) run one IVR document (tests/e2e/nodes.yaml) and one service of their own, which follows
both over AMI. "main" lives on both nodes, each with its own simulated operators; "support-a"
lives on node a, where nobody answers, and overflows after 5 s to "support-b" on node b, over the
PJSIP trunk between the nodes. Synthetic callers call each node; the one for "support" on node a
must be answered on node b, at its topic's priority, as one record (node a's call, its queue
support-b, overflowed). A caller for "support" on node b goes to node a (its queue lives there)
and back to b on its overflow: still one record. A caller for "urgent" (node a's urgent-a, where
nobody is, ``when_unstaffed: fallback``) overflows to node b at once. One document published
through the API reaches both nodes, each with its part. With node b stopped, node a's overflow
falls back to a human on node a. Then no synthetic number may be anywhere: the
service's database, API and files, and both nodes' files.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from core.settings import Settings, load_settings
from dialplan.live import live_document
from sandbox.asterisk import Sandbox
from sandbox.callgen import Callgen
from sandbox.privacy_check import NAME, PrivacyCheck
from sandbox.scenarios import CallPlan
from tests.conftest import ROOT
from tests.e2e.calls import records, trace_dir
from tests.e2e.conftest import HERE, PORT_OFFSET, Service

pytestmark = [pytest.mark.asterisk, pytest.mark.beside]

# Ports of this module only (each + PORT_OFFSET): the service, FastAGI, and per node SIP, AMI, RTP.
# Not 17080: beside (+1000) that is 18080, the session service of the other pytest of `make test`.
HTTP_PORT = 17280 + PORT_OFFSET
AGI_PORT = 17573 + PORT_OFFSET
NODES = ("a", "b")
SIP = {"a": 17060 + PORT_OFFSET, "b": 17070 + PORT_OFFSET}
AMI = {"a": 17038 + PORT_OFFSET, "b": 17048 + PORT_OFFSET}
RTP = {"a": (12000 + PORT_OFFSET, 12499 + PORT_OFFSET), "b": (12500 + PORT_OFFSET, 12999 + PORT_OFFSET)}
# The callers' sipp ports: signalling 55000.. (a) and 55100.. (b), media 55200.. and 55600..
SIPP = {"a": (55000, 55200), "b": (55100, 55600)}
HOLD_SECONDS = 6  # a simulated operator's call: long enough to look at node b's channel
NUMBERS = [f"+790000000{n:02d}" for n in range(41, 47)]  # this module's synthetic callers


class NodesService(Service):
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{HTTP_PORT}"


def line_config(tmp: Path) -> Path:
    data = yaml.safe_load((ROOT / "hotline.yaml").read_text(encoding="utf-8"))
    var = tmp / "var"
    data.update(
        var_dir=str(var),
        database_url=f"sqlite:///{var / 'hotline.sqlite3'}",
        log_file=str(var / "log" / "hotline.log"),
        agi={"host": "127.0.0.1", "port": AGI_PORT},
        http={"host": "127.0.0.1", "port": HTTP_PORT},
        ivr_seed=str(HERE / "nodes.yaml"),
        prompts_dir=str(tmp / "a" / "sounds"),
        referral_trunk=f"127.0.0.1:{17090 + PORT_OFFSET}",
    )
    data["asterisk"] = [
        {"name": "a", "ami_port": AMI["a"], "config_dir": str(tmp / "a" / "etc")},
        {
            "name": "b",
            "ami_port": AMI["b"],
            "config_dir": str(tmp / "b" / "etc"),
            "sandbox": {
                "directory": str(tmp / "b"),
                "sip_port": SIP["b"],
                "rtp_start": RTP["b"][0],
                "rtp_end": RTP["b"][1],
            },
        },
    ]
    data["sandbox"] = {
        "directory": str(tmp / "a"),
        "sip_port": SIP["a"],
        "rtp_start": RTP["a"][0],
        "rtp_end": RTP["a"][1],
        "simulated_operators": 2,
        "simulated_hold_seconds": HOLD_SECONDS,
        "unstaffed_queues": ["support-a", "urgent-a"],
    }
    path = tmp / "hotline.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@dataclass
class Line:
    settings: Settings
    service: NodesService
    boxes: dict[str, Sandbox]


@pytest.fixture(scope="module")
def line(tmp_path_factory: pytest.TempPathFactory, e2e_config: Path) -> Iterator[Line]:
    """``e2e_config``: only for the prerequisites' check (root, sipp)."""
    tmp = tmp_path_factory.mktemp("nodes")
    config = line_config(tmp)
    settings = load_settings(config)
    boxes = {name: Sandbox(settings, name) for name in NODES}
    service = NodesService(config, settings.var_dir / "log" / "service-output.log")
    try:
        doc = live_document(settings)
        for box in boxes.values():
            box.up(doc)
        service.start(timeout=60)
        yield Line(settings, service, boxes)
    finally:
        service.stop()
        for box in boxes.values():
            box.down()


def caller(number: str, digits: str) -> CallPlan:
    return CallPlan(number=number, digits=digits, name=f"{NAME} {number[-2:]}", first_digit_ms=1500)


async def _call(line: Line, node: str, plans: list[CallPlan]) -> tuple[int, int]:
    base, media = SIPP[node]
    gen = Callgen(port=SIP[node], local_port_base=base, media_port_base=media, trace_dir=trace_dir())
    result = await gen.place(plans, concurrency=5, rate=5, timeout_s=90)
    return result.successful, result.failed


def _handed_over_channel(box: Sandbox) -> dict[str, str]:
    """Node b's channel of a call from node a, with its variables ({} while there is none)."""
    listing = box.cli("core show channels concise")
    names = [
        line.split("!", 1)[0] for line in listing.splitlines() if line.startswith("PJSIP/hotline-node-a-")
    ]
    for name in names:
        shown = box.cli(f"core show channel {name}")
        variables = dict(
            line.strip().split("=", 1)
            for line in shown.splitlines()
            if "=" in line and " " not in line.strip()
        )
        if "QUEUE_PRIO" in variables:
            return variables
    return {}


async def _watch_b(box: Sandbox, seconds: float) -> dict[str, str]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen = await asyncio.to_thread(_handed_over_channel, box)
        if seen:
            return seen
        await asyncio.sleep(0.3)
    return {}


async def _all_calls(line: Line) -> tuple[list[tuple[int, int]], dict[str, str]]:
    calls = asyncio.gather(
        _call(line, "a", [caller(NUMBERS[0], "1"), caller(NUMBERS[1], "2")]),
        _call(line, "b", [caller(NUMBERS[2], "1")]),
    )
    watched = asyncio.create_task(_watch_b(line.boxes["b"], 40))
    placed = await calls
    return list(placed), await watched


def by_topic(found: list[dict[str, Any]]) -> dict[tuple[str, str | None], list[dict[str, Any]]]:
    out: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for r in found:
        out.setdefault((r["node"], r["topic"]), []).append(r)
    return out


def test_calls_on_each_node_and_an_overflow_from_a_answered_on_b(line: Line) -> None:
    placed, on_b = asyncio.run(_all_calls(line))
    assert placed == [(2, 0), (1, 0)], placed
    found = records(line.service, 3, timeout=40)
    assert len(found) == 3, found  # one record per call, the overflowed one too
    topics = by_topic(found)
    assert sorted(topics) == [("a", "support"), ("a", "talk"), ("b", "talk")], found
    for node in ("a", "b"):
        (talk,) = topics[(node, "talk")]
        assert (talk["outcome"], talk["queue"], talk["priority"]) == ("answered", "main", 2), talk
        assert talk["operator"].startswith("sim-main-") and not talk["overflowed"], talk
    (over,) = topics[("a", "support")]
    # Node a's call, answered on node b by one of support-b's operators, its topic and priority kept.
    assert (over["outcome"], over["queue"], over["overflowed"]) == ("answered", "support-b", True), over
    assert over["priority"] == 7 and over["operator"].startswith("sim-support-b-"), over
    assert over["wait_seconds"] >= 5, over  # waited in support-a first
    # On node b, the caller waited at that priority and arrived as "anonymous".
    assert on_b.get("QUEUE_PRIO") == "7" and on_b.get("HOTLINE_QUEUE") == "support-b", on_b
    # Per node and for the whole line: the records, and the day's report.
    svc = line.service
    of_b = httpx.get(f"{svc.url}/api/calls", params={"node": "b"}, headers=svc.admin, timeout=30).json()
    assert [(r["node"], r["topic"]) for r in of_b] == [("b", "talk")], of_b
    for node, offered in (("a", 2), ("b", 1), (None, 3)):
        params = {"interval": "day", "tz": "UTC", **({"node": node} if node else {})}
        report = httpx.get(f"{svc.url}/api/reports", params=params, headers=svc.admin, timeout=30)
        assert report.json()["total"]["offered"] == offered, (node, report.text)


def test_a_call_on_b_for_a_queue_of_a_comes_back_to_b_on_its_overflow(line: Line) -> None:
    before = {r["id"] for r in records(line.service, 0)}
    placed = asyncio.run(_call(line, "b", [caller(NUMBERS[3], "2")]))
    assert placed == (1, 0)
    deadline = time.monotonic() + 40
    while True:
        new = [r for r in records(line.service, 0) if r["id"] not in before]
        if new or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    (record,) = new  # b -> a (the topic's queue) -> b (its overflow): one call, one record
    assert (record["node"], record["topic"], record["priority"]) == ("b", "support", 7), record
    assert (record["outcome"], record["queue"], record["overflowed"]) == ("answered", "support-b", True)


def test_nobody_there_overflows_at_once(line: Line) -> None:
    """urgent-a (node a) has nobody and ``when_unstaffed: fallback``: its caller goes on to its
    overflow queue on node b at once, not after the 60 s wait."""
    before = {r["id"] for r in records(line.service, 0)}
    assert asyncio.run(_call(line, "a", [caller(NUMBERS[4], "3")])) == (1, 0)
    deadline = time.monotonic() + 40
    while not (new := [r for r in records(line.service, 0) if r["id"] not in before]):
        assert time.monotonic() < deadline, "no record"
        time.sleep(0.5)
    (record,) = new
    assert (record["node"], record["topic"], record["priority"], record["queue"]) == (
        "a",
        "urgent",
        9,
        "support-b",
    )
    assert record["outcome"] == "answered" and record["overflowed"] and record["wait_seconds"] < 5, record


def publish(line: Line, text: str) -> httpx.Response:
    svc = line.service
    saved = httpx.put(f"{svc.url}/api/ivr/draft/yaml", headers=svc.admin, content=text.encode(), timeout=30)
    assert saved.status_code == 200 and saved.json()["valid"], saved.text
    return httpx.post(f"{svc.url}/api/ivr/publish", headers=svc.admin, json={"note": "nodes"}, timeout=60)


def test_one_document_publishes_to_both_nodes_each_its_part(line: Line) -> None:
    seed = (HERE / "nodes.yaml").read_text(encoding="utf-8")
    extra = "  - {name: extra-b, wrapup_seconds: 0, node: b}\n"
    done = publish(line, seed.replace("topics:\n", extra + "topics:\n", 1))
    assert done.status_code == 200, done.text
    assert "extra-b has 0 calls" in line.boxes["b"].cli("queue show extra-b")
    assert "No such queue" in line.boxes["a"].cli("queue show extra-b")
    # A queue on a node the settings do not list: refused, naming it; both nodes keep the last version.
    refused = publish(line, seed.replace("node: b}", "node: c}", 1))
    assert refused.status_code == 502 and "lives on node 'c'" in refused.text, refused.text
    assert "extra-b has 0 calls" in line.boxes["b"].cli("queue show extra-b")


def test_a_node_that_is_down_leaves_the_caller_with_a_human_here(line: Line) -> None:
    """Node b stopped: node a's caller for support overflows after 5 s, node b does not answer,
    node a's fallback queue takes the call (its topic and priority still the record's)."""
    line.boxes["b"].down()
    before = {r["id"] for r in records(line.service, 0)}
    assert asyncio.run(_call(line, "a", [caller(NUMBERS[5], "2")])) == (1, 0)
    deadline = time.monotonic() + 60
    while not (new := [r for r in records(line.service, 0) if r["id"] not in before]):
        assert time.monotonic() < deadline, "no record"
        time.sleep(0.5)
    (record,) = new
    assert (record["node"], record["topic"], record["priority"], record["queue"]) == (
        "a",
        "support",
        7,
        "main",
    )
    assert record["outcome"] == "answered" and record["operator"].startswith("sim-main-"), record


def test_no_caller_number_on_either_node(line: Line) -> None:
    check = PrivacyCheck(line.settings)
    roots = check.file_roots()
    for box in line.boxes.values():
        assert box.directory in roots, roots  # both nodes' files are scanned
    report = check.scan(NUMBERS, [NAME])
    assert report.findings == [], "\n".join(report.lines())
