"""Operators on real softphones (sipp): an account made through the API, registration with the
generated credentials, log in by feature code, a queue call answered, a pause that stops offers."""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hotline.app import endpoint
from hotline.callgen import (
    CallPlan,
    softphone_answer_scenario,
    softphone_feature_scenario,
    softphone_register_scenario,
)
from hotline.settings import Settings
from telephony.ami import AmiNode
from telephony.events import AgentCalled, AmiEvent
from tests.e2e.calls import place, place_async, plan, records
from tests.e2e.conftest import Service

pytestmark = pytest.mark.asterisk

PHONE_PORT = 15111  # the softphone registers from here and receives its calls here


def sipp(settings: Settings, scenario: str, tmp: Path, port: int, *extra: str) -> subprocess.Popen[bytes]:
    path = tmp / f"scenario-{port}-{time.monotonic_ns()}.xml"
    path.write_text(scenario, encoding="ascii")
    return subprocess.Popen(
        ["sipp", f"127.0.0.1:{settings.sandbox.sip_port}", "-sf", str(path), "-p", str(port),
         "-i", "127.0.0.1", "-mi", "127.0.0.1", "-mp", str(port + 2000), "-m", "1", "-nostdin",
         "-aa", *extra],
        cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )  # fmt: skip


def finished(proc: subprocess.Popen[bytes], timeout: float = 30) -> None:
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()  # never leave a softphone holding its port for the next test
        out, _ = proc.communicate()
    assert proc.returncode == 0, out.decode(errors="replace")[-2500:]


@pytest.fixture(scope="module")
def anna(service: Service) -> dict[str, Any]:
    service.start()
    body = {"id": "op-anna", "display_name": "Anna (volunteer)", "skills": {"peer": 3}}
    created = httpx.post(f"{service.url}/api/operators", headers=service.admin, json=body, timeout=30)
    assert created.status_code == 201, created.text
    return created.json()  # type: ignore[no-any-return]


@pytest.fixture
def tmp() -> Iterator[Path]:
    with tempfile.TemporaryDirectory() as name:
        yield Path(name)


async def _observe(settings: Settings, plans: list[CallPlan]) -> list[AmiEvent]:
    """Place calls while watching Asterisk's own queue events."""
    events: list[AmiEvent] = []
    observer = AmiNode(endpoint(settings.asterisk[0]), events.append)
    task = asyncio.create_task(observer.run())
    try:
        await observer.wait_logged_in(10)
        result = await place_async(settings, plans, base=26400)
        assert result.failed == 0, result
    finally:
        await observer.stop()
        task.cancel()
    return events


def state(service: Service, token: str) -> dict[str, Any]:
    got = httpx.get(f"{service.url}/api/operators/op-anna", headers={"Authorization": f"Bearer {token}"})
    assert got.status_code == 200, got.text
    return got.json()["state"]  # type: ignore[no-any-return]


def wait_for(check: Any, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.2)


def test_a_softphone_registers_logs_in_and_answers(
    service: Service, e2e_settings: Settings, anna: dict[str, Any], tmp: Path
) -> None:
    phone = anna["softphone"]
    token = anna["api_token"]
    assert (phone["username"], phone["realm"], phone["port"]) == (
        "op-anna",
        "hotline",
        e2e_settings.sandbox.sip_port,
    )
    finished(sipp(e2e_settings, softphone_register_scenario("op-anna", phone["password"]), tmp, PHONE_PORT))
    assert state(service, token)["status"] == "logged_out"

    finished(sipp(e2e_settings, softphone_feature_scenario("op-anna", phone["password"], "*41"), tmp, 15113))
    wait_for(lambda: state(service, token)["status"] == "available")
    assert state(service, token)["queues"] == ["main", "peer"]

    before = {r["id"] for r in records(service, 0)}
    answering = sipp(e2e_settings, softphone_answer_scenario(forbidden="7900000"), tmp, PHONE_PORT)
    time.sleep(0.5)
    place(e2e_settings, [plan("18", hangup_after_ms=12000)], base=26300)  # Russian, peer support
    finished(answering)
    [r] = [r for r in records(service, len(before) + 1) if r["id"] not in before]
    assert (r["topic"], r["queue"], r["operator"], r["outcome"]) == ("peer", "peer", "op-anna", "answered")


def test_a_pause_with_a_reason_stops_offers(
    service: Service, e2e_settings: Settings, anna: dict[str, Any], tmp: Path
) -> None:
    phone, token = anna["softphone"], anna["api_token"]
    finished(sipp(e2e_settings, softphone_feature_scenario("op-anna", phone["password"], "*431"), tmp, 15115))
    wait_for(lambda: state(service, token)["status"] == "paused")
    assert state(service, token)["paused_reason"] == "break"

    before = {r["id"] for r in records(service, 0)}
    ringing = sipp(e2e_settings, softphone_answer_scenario(), tmp, PHONE_PORT)  # reachable, answers
    try:
        events = asyncio.run(_observe(e2e_settings, [plan("18", hangup_after_ms=9000)]))  # gives up
        assert ringing.poll() is None  # never offered a call
    finally:
        ringing.kill()
        ringing.wait()
    offered = [e.member for e in events if isinstance(e, AgentCalled)]
    assert "op-anna" not in offered
    [r] = [r for r in records(service, len(before) + 1) if r["id"] not in before]
    assert (r["queue"], r["operator"], r["outcome"]) == ("peer", None, "abandoned_in_queue")

    resumed = httpx.post(
        f"{service.url}/api/operators/op-anna/resume", headers={"Authorization": f"Bearer {token}"}
    )
    assert resumed.status_code == 200, resumed.text
    wait_for(lambda: state(service, token)["status"] == "available")


def test_refusals_are_clear(service: Service, anna: dict[str, Any]) -> None:
    operator = {"Authorization": f"Bearer {anna['api_token']}"}
    listed = httpx.get(f"{service.url}/api/operators", headers=operator)
    assert (listed.status_code, listed.json()["error_id"]) == (403, "forbidden")
    assert "needs the role admin, shift_lead; you are operator" in listed.json()["message"]
    unknown = httpx.post(f"{service.url}/api/operators/op-nobody/login", headers=service.admin)
    assert (unknown.status_code, unknown.json()["error_id"]) == (404, "unknown_operator")
    assert httpx.post(f"{service.url}/api/operators/op-anna/logout", headers=operator).status_code == 200
    paused = httpx.post(
        f"{service.url}/api/operators/op-anna/pause", headers=operator, json={"reason": "break"}
    )
    assert (paused.status_code, paused.json()["error_id"]) == (409, "operator_not_logged_in")
    assert paused.json()["message"] == "operator 'op-anna' is not logged in"
