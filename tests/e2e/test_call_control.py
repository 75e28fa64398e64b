"""Call control from the operator's desk on the real Asterisk (issue 16, items 5 and 6): a sipp
caller, a sipp softphone operator (echoing the audio it hears) and a sipp partner line (playing
audio) on the referral trunk. The partner's INVITE is read header by header for the caller's
number; audio is measured by Asterisk's own RTP counters (``pjsip show channelstats``): packets
sent to each party, and packets back from the echoing softphone and the playing partner."""

from __future__ import annotations

import re
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from sandbox.asterisk import Sandbox
from sandbox.scenarios import (
    softphone_answer_scenario,
    softphone_feature_scenario,
    softphone_register_scenario,
)
from tests.e2e.calls import NUMBERS, place, plan, records
from tests.e2e.conftest import REFERRAL_PORT, Service
from tests.e2e.test_operators import ANSWERING, finished, sipp

pytestmark = pytest.mark.asterisk

OPERATOR = "op-cc"
PHONE_PORT = 15131  # the softphone registers from here and receives its calls here
CALLER_PREFIX = "7900000"  # every synthetic caller's number starts so (tests/e2e/calls.py)
AUDIO = "/usr/share/sip-tester/g711a.pcap"  # a few seconds of speech, PCMA
CRISIS_TEAM = "88001000002"  # tests/e2e/ivr.yaml: the referral crisis-team
EMERGENCY = "88001000100"  # tests/e2e/ivr.yaml: emergency.number


def _partner_scenario(number: str) -> str:
    """A partner line: answers a call to ``number`` offering PCMA and plays speech (every 5 s,
    so a party that joins later hears it too) until the BYE."""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="partner line">
<recv request="INVITE">
  <action><ereg regexp="^INVITE sip:{number}@" search_in="msg" check_it="true" assign_to="uri"/></action>
</recv>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]partner[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o=partner 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 8
a=rtpmap:8 PCMA/8000
]]></send>
<recv request="ACK"/>
<Reference variables="uri"/>
<label id="1"/>
<nop><action><exec play_pcap_audio="{AUDIO}"/></action></nop>
<recv request="BYE" timeout="5000" ontimeout="1"/>
<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
</scenario>
"""


@dataclass
class Partner:
    proc: subprocess.Popen[bytes]
    cwd: Path

    def finished(self, timeout: float = 90) -> str:
        try:
            out, _ = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, _ = self.proc.communicate()
        assert self.proc.returncode == 0, out.decode(errors="replace")[-2500:]
        return self.invite()

    def invite(self) -> str:
        """The INVITE the partner received, as sipp's message trace kept it."""
        [log] = list(self.cwd.glob("*_messages.log"))
        text = log.read_text(errors="replace")
        found = re.search(r"(INVITE sip:.*?)\r?\n\r?\n", text, re.S)
        assert found, "no INVITE reached the partner line"
        return found.group(1)


def start_partner(number: str, tmp: Path) -> Partner:
    cwd = tmp / f"partner-{number}"
    cwd.mkdir()
    scenario = cwd / "partner.xml"
    scenario.write_text(_partner_scenario(number), encoding="ascii")
    proc = subprocess.Popen(
        ["sipp", "-sf", str(scenario), "-p", str(REFERRAL_PORT), "-i", "127.0.0.1",
         "-mi", "127.0.0.1", "-mp", "27100", "-m", "1", "-timeout", "120s", "-nostdin", "-trace_msg"],
        cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip
    return Partner(proc, cwd)


def assert_anonymous(invite: str, callers: list[str]) -> None:
    """Header by header: no caller number, in any form; the partner sees "anonymous"."""
    lines = invite.splitlines()
    headers = {
        line.split(":", 1)[0].strip().lower(): line.split(":", 1)[1] for line in lines[1:] if ":" in line
    }
    digits = [re.sub(r"\D", "", n) for n in callers]
    for line in lines:
        flat = re.sub(r"\D", "", line)
        assert CALLER_PREFIX not in flat, f"a caller's number in the partner's INVITE: {line.split(':')[0]}"
        assert not any(d[-7:] in flat for d in digits), line.split(":")[0]
    assert "anonymous" in headers["from"].lower(), headers["from"]
    for identity in ("p-asserted-identity", "remote-party-id", "p-preferred-identity"):
        assert identity not in headers or "anonymous" in headers[identity].lower(), identity


@dataclass(frozen=True)
class Leg:
    bridge: str
    channel: str
    rx: int
    tx: int


def channel_stats(box: Sandbox) -> list[Leg]:
    """Asterisk's RTP counters per channel: packets received from the party and sent to it."""
    legs = []
    for line in box.cli("pjsip show channelstats").splitlines():
        f = line.split()
        up = next((i for i, t in enumerate(f[:3]) if re.fullmatch(r"\d\d:\d\d:\d\d", t)), None)
        if up is None or up == 0 or len(f) < up + 7:
            continue
        bridge = f[0] if up == 2 else ""  # a channel in no bridge has an empty BridgeId
        legs.append(Leg(bridge, f[up - 1], _count(f[up + 2]), _count(f[up + 6])))
    return legs


def _count(text: str) -> int:
    """Asterisk prints large counts with a K or M suffix."""
    scale = {"K": 1_000, "M": 1_000_000}.get(text[-1:], 1)
    return int(text.rstrip("KM")) * scale


def bridge_members(box: Sandbox, prefix: str) -> list[str]:
    """The channels in the bridge whose id starts with ``prefix`` (channelstats shows 8 chars)."""
    ids = re.findall(r"^([0-9a-f-]{36})\s", box.cli("bridge show all"), re.M)
    full = [i for i in ids if i.startswith(prefix)]
    if not full:
        return []
    return re.findall(r"^Channel:\s*(\S+)", box.cli(f"bridge show {full[0]}"), re.M)


def wait_for(check: Callable[[], Any], timeout: float = 20, box: Sandbox | None = None) -> Any:
    """``box``: on a timeout, say which channels Asterisk has (kinds, bridges, RTP counts)."""
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            legs = (
                [] if box is None else [(_kind(g.channel), g.bridge, g.rx, g.tx) for g in channel_stats(box)]
            )
            raise AssertionError(f"condition not reached; channels: {legs}")
        time.sleep(0.3)
    return result


@pytest.fixture(scope="module")
def operator(service: Service, e2e_settings: Settings) -> Iterator[dict[str, Any]]:
    """op-cc on a softphone, logged in to the peer queue alone (others logged out of it)."""
    service.start()
    body = {"id": OPERATOR, "display_name": "Call control", "skills": {"peer": 3}}
    created = httpx.post(f"{service.url}/api/operators", headers=service.admin, json=body, timeout=30)
    assert created.status_code == 201, created.text
    for other in httpx.get(f"{service.url}/api/operators", headers=service.admin).json():
        if other["id"] != OPERATOR and other["state"]["queues"]:
            out = httpx.post(f"{service.url}/api/operators/{other['id']}/logout", headers=service.admin)
            assert out.status_code == 200, out.text
    password = created.json()["softphone"]["password"]
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        finished(sipp(e2e_settings, softphone_register_scenario(OPERATOR, password), tmp, PHONE_PORT))
        finished(sipp(e2e_settings, softphone_feature_scenario(OPERATOR, password, "*41"), tmp, 15133))
    yield created.json()
    out = httpx.post(f"{service.url}/api/operators/{OPERATOR}/logout", headers=service.admin)
    assert out.status_code == 200, out.text  # later tests' calls never ring this softphone, gone


@pytest.fixture
def tmp() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


class Desk:
    def __init__(self, service: Service, token: str) -> None:
        self.service, self.headers = service, {"Authorization": f"Bearer {token}"}

    def status(self) -> str:
        got = httpx.get(f"{self.service.url}/api/operators/{OPERATOR}", headers=self.headers)
        return str(got.json()["state"]["status"])

    def post(self, action: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        url = f"{self.service.url}/api/operators/{OPERATOR}/{action}"
        answer = httpx.post(url, headers=self.headers, json=body, timeout=15)
        assert answer.status_code == 200, answer.json().get("detail", answer.text)
        return answer.json()  # type: ignore[no-any-return]


def run_call(
    settings: Settings, desk: Desk, tmp: Path, script: Callable[[], None], hangup_after_ms: int
) -> tuple[list[str], list[BaseException]]:
    """A softphone that answers and echoes, a caller for the peer queue, and ``script`` run
    in a thread once the operator talks. Returns the callers' numbers and the script's errors."""
    answers = softphone_answer_scenario(forbidden=CALLER_PREFIX, stop_after_call=False)
    phone = sipp(settings, answers, tmp, PHONE_PORT, *ANSWERING, "-rtp_echo")
    wait_for(lambda: desk.status() == "available", timeout=40)
    errors: list[BaseException] = []

    def when_talking() -> None:
        try:
            wait_for(lambda: desk.status() == "on_call", timeout=40)
            script()
        except BaseException as exc:  # reported by the test
            errors.append(exc)

    acting = threading.Thread(target=when_talking, daemon=True)
    acting.start()
    caller = plan("18", hangup_after_ms=hangup_after_ms)  # Russian, peer support
    try:
        place(settings, [caller], base=27300)
        acting.join(30)
    finally:
        phone.kill()
        phone.communicate()
    return [caller.number], errors


def one_record(service: Service, before: set[str], since: datetime) -> dict[str, Any]:
    deadline = time.monotonic() + 20
    while True:
        got = [
            r for r in records(service, 0)
            if r["id"] not in before and datetime.fromisoformat(r["started_at"]) >= since
        ]  # fmt: skip
        if got or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    time.sleep(1)  # a second record of the same call would be a bug: give it time to show
    got = [
        r
        for r in records(service, 0)
        if r["id"] not in before and datetime.fromisoformat(r["started_at"]) >= since
    ]
    assert len(got) == 1, got
    return got[0]


def three_parties(box: Sandbox) -> list[Leg]:
    """Caller, operator and partner in one bridge, RTP counted to each and back from the two
    sipp parties that send it (the caller's sipp sends only its key presses)."""

    def mixed() -> list[Leg] | None:
        legs = channel_stats(box)
        by_bridge: dict[str, list[Leg]] = {}
        for leg in legs:
            by_bridge.setdefault(leg.bridge, []).append(leg)
        return next((b for b in by_bridge.values() if len(b) == 3), None)

    wait_for(mixed, box=box)
    time.sleep(3)  # three seconds of audio
    legs: list[Leg] = wait_for(mixed, box=box)
    kinds = {_kind(leg.channel): leg for leg in legs}
    assert set(kinds) == {"caller", "operator", "partner"}, [leg.channel[:12] for leg in legs]
    assert all(leg.tx > 50 for leg in legs), [(k, leg.tx) for k, leg in kinds.items()]
    assert kinds["partner"].rx > 50 and kinds["operator"].rx > 50, [(k, leg.rx) for k, leg in kinds.items()]
    return legs


def _kind(channel: str) -> str:
    if channel.startswith(OPERATOR):
        return "operator"
    if channel.startswith("hotline-refer"):
        return "partner"
    return "caller" if channel.startswith("hotline-calle") else channel[:8]


def test_a_conference_brings_the_partner_in_and_the_operator_may_leave(
    service: Service, e2e_settings: Settings, sandbox: Sandbox, operator: dict[str, Any], tmp: Path
) -> None:
    desk = Desk(service, operator["api_token"])
    since, before = datetime.now(UTC), {r["id"] for r in records(service, 0)}
    partner = start_partner(CRISIS_TEAM, tmp)
    seen: dict[str, Any] = {}

    def conference() -> None:
        time.sleep(2)
        seen["answer"] = desk.post("conference", {"referral": "crisis-team"})
        seen["legs"] = three_parties(sandbox)
        seen["left"] = desk.post("leave")
        seen["after"] = wait_for(lambda: len(channel_stats(sandbox)) == 2 and channel_stats(sandbox))

    callers, errors = run_call(e2e_settings, desk, tmp, conference, hangup_after_ms=32000)
    assert not errors, errors
    invite = partner.finished()  # the caller hung up: the partner got its BYE
    assert_anonymous(invite, callers)
    assert {_kind(leg.channel) for leg in seen["after"]} == {"caller", "partner"}  # the operator left
    answer = seen["answer"]
    assert (answer["action"], answer["target_kind"], answer["target"], answer["by"]) == (
        "conference", "referral", "crisis-team", OPERATOR,
    )  # fmt: skip
    r = one_record(service, before, since)
    assert (r["topic"], r["operator"], r["outcome"], r["conferenced"], r["emergency"]) == (
        "peer", OPERATOR, "answered", True, False,
    )  # fmt: skip
    assert r["transferred"] is None and not r["escalated"]


def test_the_emergency_line_joins_the_call_and_the_wallboard_shows_it(
    service: Service, e2e_settings: Settings, sandbox: Sandbox, operator: dict[str, Any], tmp: Path
) -> None:
    desk = Desk(service, operator["api_token"])
    since, before = datetime.now(UTC), {r["id"] for r in records(service, 0)}
    partner = start_partner(EMERGENCY, tmp)
    seen: dict[str, Any] = {}

    def emergency() -> None:
        time.sleep(2)
        seen["answer"] = desk.post("emergency")
        seen["legs"] = three_parties(sandbox)
        seen["board"] = httpx.get(f"{service.url}/api/wallboard", headers=service.admin).text
        desk.post("leave")  # the crisis team has the caller: the operator may go

    callers, errors = run_call(e2e_settings, desk, tmp, emergency, hangup_after_ms=22000)
    assert not errors, errors
    assert_anonymous(partner.finished(), callers)
    r = one_record(service, before, since)
    assert (r["operator"], r["emergency"], r["conferenced"]) == (OPERATOR, True, False)
    board = seen["board"]
    assert EMERGENCY not in board and not any(n.lstrip("+") in board for n in NUMBERS)
    alerts = [a for a in httpx.get(f"{service.url}/api/wallboard", headers=service.admin).json()["alerts"]
              if a["kind"] == "emergency" and a["operator"] == OPERATOR]  # fmt: skip
    assert alerts and (alerts[0]["queue"], alerts[0]["topic"], alerts[0]["by"]) == ("peer", "peer", OPERATOR)
    assert datetime.fromisoformat(alerts[0]["at"]) >= since


def test_a_warm_transfer_holds_the_caller_then_joins_them_to_the_partner(
    service: Service, e2e_settings: Settings, sandbox: Sandbox, operator: dict[str, Any], tmp: Path
) -> None:
    desk = Desk(service, operator["api_token"])
    since, before = datetime.now(UTC), {r["id"] for r in records(service, 0)}
    partner = start_partner(CRISIS_TEAM, tmp)
    seen: dict[str, Any] = {}

    def warm() -> None:
        time.sleep(2)
        seen["answer"] = desk.post("transfer", {"mode": "warm", "to": {"referral": "crisis-team"}})

        def consulting() -> dict[str, Leg] | None:  # operator and partner talk; the caller apart
            legs = {_kind(leg.channel): leg for leg in channel_stats(sandbox)}
            if (
                set(legs) != {"caller", "operator", "partner"}
                or legs["caller"].bridge == legs["operator"].bridge
            ):
                return None
            return legs

        wait_for(consulting, box=sandbox)
        time.sleep(3)
        seen["consult"] = wait_for(consulting, box=sandbox)
        seen["held_with"] = bridge_members(sandbox, seen["consult"]["caller"].bridge)
        seen["left"] = desk.post("leave")  # the operator hangs up: Asterisk joins the two

        def joined() -> list[str] | None:
            legs = {_kind(leg.channel): leg for leg in channel_stats(sandbox)}
            if set(legs) != {"caller", "partner"}:
                return None
            members = bridge_members(sandbox, legs["caller"].bridge)
            return members if len(members) == 2 else None

        seen["joined"] = wait_for(joined, box=sandbox)

    callers, errors = run_call(e2e_settings, desk, tmp, warm, hangup_after_ms=36000)
    assert not errors, errors
    assert_anonymous(partner.finished(), callers)
    consult = seen["consult"]
    for party in ("operator", "partner"):  # they talk: RTP both ways, through the consultation
        assert consult[party].rx > 50 and consult[party].tx > 50, (party, consult[party])
    assert consult["caller"].tx > 50  # music on hold, to the caller alone in the call's bridge
    assert len(seen["held_with"]) == 1, seen["held_with"]
    assert not any(OPERATOR in c for c in seen["joined"])  # the caller's bridge: caller and partner
    assert seen["answer"]["action"] == "transfer_warm"
    r = one_record(service, before, since)
    assert (r["topic"], r["operator"], r["outcome"], r["transferred"]) == (
        "peer",
        OPERATOR,
        "answered",
        "warm",
    )
    assert not r["escalated"]


def test_a_blind_transfer_sends_the_caller_to_the_partner_and_ends_the_operators_leg(
    service: Service, e2e_settings: Settings, sandbox: Sandbox, operator: dict[str, Any], tmp: Path
) -> None:
    desk = Desk(service, operator["api_token"])
    since, before = datetime.now(UTC), {r["id"] for r in records(service, 0)}
    partner = start_partner(CRISIS_TEAM, tmp)
    seen: dict[str, Any] = {}

    def blind() -> None:
        time.sleep(2)
        seen["answer"] = desk.post("transfer", {"mode": "blind", "to": {"referral": "crisis-team"}})

        def handed_on() -> list[Leg] | None:  # the operator's leg gone, the caller with the partner
            legs = channel_stats(sandbox)
            kinds = {_kind(leg.channel): leg for leg in legs}
            if set(kinds) != {"caller", "partner"} or kinds["caller"].bridge != kinds["partner"].bridge:
                return None
            return legs

        wait_for(handed_on, box=sandbox)
        time.sleep(3)
        seen["legs"] = wait_for(handed_on, box=sandbox)

    callers, errors = run_call(e2e_settings, desk, tmp, blind, hangup_after_ms=26000)
    assert not errors, errors
    assert_anonymous(partner.finished(), callers)
    kinds = {_kind(leg.channel): leg for leg in seen["legs"]}
    assert kinds["caller"].tx > 50 and kinds["partner"].rx > 50  # the partner's speech reaches the caller
    assert seen["answer"]["action"] == "transfer_blind"
    r = one_record(service, before, since)
    assert (r["topic"], r["operator"], r["outcome"], r["transferred"]) == (
        "peer",
        OPERATOR,
        "answered",
        "blind",
    )
    assert not r["escalated"] and not r["conferenced"]
