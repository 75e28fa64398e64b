"""Operator changes while Asterisk is unreachable: kept, their secrets shown once, pending where
anyone can see it, and applied when the node logs in again (the fake AMI peer over real TCP
sees the reloads and the accounts with the shown passwords); the pending state survives a
restart of the service."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents.directory import sip_md5
from core.db import migrate
from core.tasks import Backoff, TaskSupervisor
from dialplan.apply import ApplyFailed
from dialplan.sync import AsteriskSync
from hotline.app import Hotline
from ivr.document import IvrDocument
from telephony.ami import NodeStatus
from tests.accounts import ADMIN_ID, make_admin
from tests.conftest import make_settings, seed_document
from tests.hotline.test_problems import ADMIN_TOKEN, _publisher
from tests.telephony.ami_peer import SECRET, USERNAME, FakeAsterisk

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
RELOADED = ["app_queue.so", "pbx_config.so", "res_pjsip.so"]


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sounds")


@dataclass
class Site:
    hotline: Hotline
    peer: FakeAsterisk
    port: int
    client: httpx.AsyncClient

    async def until(self, what: str, check: Any, within: float = 40.0) -> None:
        deadline = asyncio.get_running_loop().time() + within
        while not check():
            assert asyncio.get_running_loop().time() < deadline, f"never: {what}"
            await asyncio.sleep(0.05)


@pytest.fixture
async def site(tmp_path: Path, sounds: Path) -> AsyncIterator[Site]:
    """The composition root's app, its node on a fake Asterisk that is down (it listened once:
    its port is known), the node's AMI client running under the task supervisor."""
    peer = FakeAsterisk(config_dir=tmp_path / "etc")
    port = await peer.start()
    await peer.close()
    node = {
        "name": "local",
        "ami_port": port,
        "ami_user": USERNAME,
        "ami_secret": SECRET,
        "config_dir": str(tmp_path / "etc"),
        "layout": "sandbox",
    }
    settings = make_settings(tmp_path, prompts_dir=str(sounds), asterisk=[node])
    hotline = Hotline(settings)
    migrate(hotline.engine)
    make_admin(hotline.engine, ADMIN_TOKEN)
    await _publisher(hotline).start(settings.ivr_seed)  # the live IVR, published without a reload
    await hotline.ivr_service.start(settings.ivr_seed)
    hotline.tasks.supervise("ami-local", hotline.nodes[0].run)
    transport = httpx.ASGITransport(app=hotline.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline", timeout=60) as client:
        yield Site(hotline, peer, port, client)
    await hotline.nodes[0].stop()
    await hotline.tasks.close()
    await peer.close()
    hotline.engine.dispose()


async def test_changes_made_while_asterisk_is_down_reach_it_when_it_is_back(site: Site) -> None:
    c = site.client
    anna = await c.post("/api/operators", headers=ADMIN, json={"id": "op-anna", "display_name": "Anna"})
    boris = await c.post("/api/operators", headers=ADMIN, json={"id": "op-boris", "display_name": "Boris"})
    assert (anna.status_code, boris.status_code) == (201, 201), anna.text
    skills = await c.patch("/api/operators/op-anna", headers=ADMIN, json={"skills": {"crisis": 3}})
    rotated = await c.post("/api/operators/op-boris/credentials", headers=ADMIN)
    assert (skills.status_code, rotated.status_code) == (200, 200), rotated.text
    # Every answer kept the change, showed the secrets, and says Asterisk does not have it yet.
    for answer in (anna, boris, rotated):
        shown = answer.json()
        assert shown["softphone"]["password"] and shown["api_token"]
        assert shown["operator"]["asterisk"]["applied"] is False
        assert "local" in shown["operator"]["asterisk"]["pending"]
    assert skills.json()["asterisk"]["applied"] is False
    assert "not logged in" in rotated.json()["operator"]["asterisk"]["pending"]["local"]
    listed = (await c.get("/api/operators", headers=ADMIN)).json()
    made = {o["id"]: o["asterisk"]["applied"] for o in listed if o["id"] != ADMIN_ID}  # the admin: no change
    assert made == {"op-anna": False, "op-boris": False}
    health = (await c.get("/healthz", headers=ADMIN)).json()
    assert health["asterisk"][0]["operator_changes_pending"] == 2
    assert 'hotline_asterisk_changes_pending{node="local"} 2.0' in (await c.get("/metrics/")).text
    assert site.peer.reloads() == []

    await site.peer.start(site.port)  # Asterisk is back: the node logs in, the changes follow
    await site.until("applied", lambda: not site.hotline.sync.pending()["local"])
    assert site.peer.reloads() == RELOADED  # once, carrying every change
    passwords = {"op-anna": anna.json(), "op-boris": rotated.json()}
    assert _operators(site.peer.accounts) == {
        op: sip_md5(op, shown["softphone"]["password"]) for op, shown in passwords.items()
    }
    listed = (await c.get("/api/operators", headers=ADMIN)).json()
    assert all(o["asterisk"] == {"applied": True, "pending": {}} for o in listed)
    assert 'hotline_asterisk_changes_pending{node="local"} 0.0' in (await c.get("/metrics/")).text
    # The secrets were shown once: later reads never carry them, and the shown token works.
    me = await c.get("/api/me", headers={"Authorization": f"Bearer {rotated.json()['api_token']}"})
    assert me.status_code == 200 and "password" not in me.text and "api_token" not in me.text


async def test_a_change_while_asterisk_is_up_is_applied_at_once(site: Site) -> None:
    await site.peer.start(site.port)
    await site.hotline.nodes[0].wait_logged_in(30)
    made = await site.client.post(
        "/api/operators", headers=ADMIN, json={"id": "op-cleo", "display_name": "C"}
    )
    assert made.status_code == 201 and made.json()["operator"]["asterisk"] == {"applied": True, "pending": {}}
    assert _operators(site.peer.accounts) == {
        "op-cleo": sip_md5("op-cleo", made.json()["softphone"]["password"])
    }


def _operators(accounts: dict[str, str]) -> dict[str, str]:
    """The softphone accounts Asterisk was given, but the admin's: an admin is an account like
    any other (tests/accounts.py), with a softphone of its own."""
    assert ADMIN_ID in accounts
    return {who: md5 for who, md5 in accounts.items() if who != ADMIN_ID}


# -- the pending state on its own ------------------------------------------------------------------
class FlakyApplier:
    """An AsteriskApplier whose node refuses the first ``failures`` applies."""

    def __init__(self, failures: int) -> None:
        self.failures, self.applied = failures, 0

    def managed(self) -> list[str]:
        return ["local"]

    async def apply_to(self, name: str, doc: IvrDocument) -> None:
        if self.failures:
            self.failures -= 1
            raise ApplyFailed(name, "reloading res_pjsip.so failed: Reload: not logged in")
        self.applied += 1


def status(logged_in: bool) -> NodeStatus:
    return NodeStatus("local", logged_in, logged_in, datetime.now(UTC), None, 0, 0, None)


async def settled(done: Any, within: float = 10.0) -> None:
    """Until ``done()`` (the backoff's retries run on their own time, slower on a busy machine)."""
    for _ in range(int(within / 0.02)):
        if done():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("not settled in time")


async def test_pending_changes_survive_a_restart_and_are_retried_while_the_node_is_up(tmp_path: Path) -> None:
    state = tmp_path / "asterisk-pending.json"
    first = AsteriskSync(FlakyApplier(1), seed_document, state)  # type: ignore[arg-type]
    assert await first.changed("op-anna") == {
        "local": "asterisk node 'local': reloading res_pjsip.so failed: Reload: not logged in"
    }
    assert json.loads(state.read_text()) == {"local": ["op-anna"]}
    # The service restarts: the new process knows what waits, and applies it when the node logs
    # in; a failed try while the node stays up is tried again with backoff.
    applier, tasks = FlakyApplier(1), TaskSupervisor()
    second = AsteriskSync(applier, seed_document, state, tasks, lambda: Backoff(0.01, 0.02))  # type: ignore[arg-type]
    assert second.waiting("op-anna") and second.pending() == {"local": 1}
    second.on_status(status(logged_in=False))
    second.on_status(status(logged_in=True))
    # the retries run on their own; the file follows the applied change
    await settled(lambda: second.pending() == {"local": 0} and json.loads(state.read_text()) == {})
    assert applier.applied == 1 and second.pending() == {"local": 0} and not second.waiting("op-anna")
    assert json.loads(state.read_text()) == {}
    assert tasks.failures["asterisk-sync"] == 1


async def test_a_change_a_logged_in_node_refuses_is_tried_again_with_backoff(tmp_path: Path) -> None:
    applier, tasks = FlakyApplier(2), TaskSupervisor()
    sync = AsteriskSync(applier, seed_document, tmp_path / "p.json", tasks, lambda: Backoff(0.01, 0.02))  # type: ignore[arg-type]
    sync.on_status(status(logged_in=True))
    assert set(await sync.changed("op-anna")) == {"local"}  # refused now (a reload that failed)
    await settled(lambda: sync.pending() == {"local": 0})
    assert applier.applied == 1 and sync.pending() == {"local": 0}
    assert tasks.failures["asterisk-sync"] == 1  # the retry that failed; then it worked
