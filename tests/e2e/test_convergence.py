"""Cut the service's AMI connection, or restart Asterisk, while operators' state changes: the
service reconnects, resyncs from QueueStatus, and its operator state equals Asterisk's."""

from __future__ import annotations

import asyncio
import subprocess
import time
from typing import Any

import httpx
import pytest

from agents.state import OperatorBoard, OperatorStatus
from core.settings import Settings
from hotline.wiring import endpoint
from sandbox.asterisk import Sandbox
from telephony.ami import AmiNode
from tests.e2e.conftest import Service

pytestmark = pytest.mark.asterisk

OPERATORS = ("op-conv-a", "op-conv-b")


def asterisk_view(settings: Settings) -> dict[str, tuple[tuple[str, ...], bool, str]]:
    """What Asterisk's QueueStatus says, read through a fresh AMI connection of the test's own."""

    async def read() -> OperatorBoard:
        board = OperatorBoard()
        node = AmiNode(endpoint(settings.asterisk[0]), board.on_event)
        task = asyncio.create_task(node.run())
        try:
            await node.wait_logged_in(20)
            await asyncio.sleep(0.5)  # the resync snapshot follows the login
        finally:
            await node.stop()
            task.cancel()
        return board

    board = asyncio.run(read())
    return {
        op: _summary(board.state(op).queues, board.state(op).status, board.state(op).paused_reason)
        for op in OPERATORS
    }


def _summary(queues: Any, status: OperatorStatus | str, reason: str) -> tuple[tuple[str, ...], bool, str]:
    return tuple(sorted(queues)), str(status) == OperatorStatus.PAUSED.value, reason


def service_view(service: Service) -> dict[str, tuple[tuple[str, ...], bool, str]]:
    listed = httpx.get(f"{service.url}/api/operators", headers=service.admin, timeout=10).json()
    found = {o["id"]: o["state"] for o in listed if o["id"] in OPERATORS}
    return {op: _summary(s["queues"], s["status"], s["paused_reason"]) for op, s in found.items()}


def ami_up(service: Service) -> bool:
    body = httpx.get(f"{service.url}/healthz", headers=service.admin, timeout=5).json()
    return all(node["logged_in"] for node in body["asterisk"])


def converged(service: Service, settings: Settings, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if ami_up(service):
            truth, seen = asterisk_view(settings), service_view(service)
            if seen == truth:
                return
        assert time.monotonic() < deadline, f"service {seen} != Asterisk {truth}"
        time.sleep(0.5)


def cut_ami(settings: Settings) -> None:
    """Destroy every TCP connection to the AMI port (the service's): a broken link, as a
    network fault or a firewall would make it."""
    port = settings.asterisk[0].ami_port
    subprocess.run(["ss", "-K", "dst", "127.0.0.1", "dport", "=", str(port)], check=True, capture_output=True)


def cli(sandbox: Sandbox, command: str) -> None:
    sandbox.cli(command)


@pytest.fixture(scope="module")
def operators(service: Service) -> None:
    service.start()
    for op, skills in zip(OPERATORS, ({"peer": 2, "loss": 1}, {"addiction": 1}), strict=True):
        body = {"id": op, "display_name": op, "skills": skills}
        made = httpx.post(f"{service.url}/api/operators", headers=service.admin, json=body, timeout=30)
        assert made.status_code == 201, made.text
        logged = httpx.post(f"{service.url}/api/operators/{op}/login", headers=service.admin, timeout=30)
        assert logged.status_code == 200, logged.text


def test_state_converges_after_the_ami_link_is_cut_during_changes(
    service: Service, e2e_settings: Settings, sandbox: Sandbox, operators: None
) -> None:
    converged(service, e2e_settings)
    # Changes made in Asterisk while the link is down again and again: the service misses
    # their events and must learn them from the QueueStatus resync after it reconnects.
    changes = [
        "queue pause member PJSIP/op-conv-a reason training",
        "queue remove member PJSIP/op-conv-b from addiction",
        "queue unpause member PJSIP/op-conv-a",
        "queue pause member PJSIP/op-conv-a queue peer reason debrief",
        "queue add member PJSIP/op-conv-b to loss penalty 1 as op-conv-b",
    ]
    for change in changes:
        cut_ami(e2e_settings)
        cli(sandbox, change)
    cut_ami(e2e_settings)
    converged(service, e2e_settings)
    truth = asterisk_view(e2e_settings)
    assert truth["op-conv-b"][0] == ("loss", "main")  # the changes did happen in Asterisk
    assert truth["op-conv-a"][2] == "debrief"


def test_state_converges_after_asterisk_restarts(
    service: Service, e2e_settings: Settings, sandbox: Sandbox, operators: None
) -> None:
    paused = httpx.post(
        f"{service.url}/api/operators/op-conv-b/pause", headers=service.admin, json={"reason": "supervision"}
    )
    assert paused.status_code == 200, paused.text
    converged(service, e2e_settings)
    cli(sandbox, "core restart now")
    deadline = time.monotonic() + 60
    while ami_up(service):  # the service notices the restart ...
        assert time.monotonic() < deadline
        time.sleep(0.1)
    converged(service, e2e_settings, timeout=60)  # ... and comes back to Asterisk's state
    # Operators stay logged in over a restart (persistentmembers): nobody has to log in again;
    # Asterisk forgets pauses, and the service applies the recorded one again.
    deadline = time.monotonic() + 15
    while service_view(service)["op-conv-b"] != (("loss", "main"), True, "supervision"):
        assert time.monotonic() < deadline, service_view(service)
        time.sleep(0.3)
    converged(service, e2e_settings)
