"""AmiNode against a fake Asterisk over real TCP."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from telephony.ami import (
    AmiEndpoint,
    AmiLoginFailed,
    AmiNode,
    AmiUnavailable,
    NodeStatus,
)
from telephony.ami_wire import WIRE_LOGGER
from telephony.events import (
    AgentComplete,
    AgentConnect,
    AmiEvent,
    FullyBooted,
    Hangup,
    LiveCalls,
    QueueCallerJoin,
    QueueMemberPause,
    QueueSnapshot,
)
from tests.telephony.ami_peer import SECRET, FakeAsterisk, read_stream, split_messages

PERSONAL = ("79000000001", "79000000002", "79000000003", "Ivanova", "Petrov")


@pytest.fixture
async def peer() -> AsyncIterator[FakeAsterisk]:
    fake = FakeAsterisk()
    await fake.start()
    yield fake
    await fake.close()


def endpoint(peer: FakeAsterisk, **overrides: Any) -> AmiEndpoint:
    settings: dict[str, Any] = {
        "connect_timeout": 1.0,
        "action_timeout": 0.3,
        "heartbeat_interval": 0.1,
        "backoff_initial": 0.02,
        "backoff_max": 0.1,
    }
    settings.update(overrides)
    return AmiEndpoint("ast-a", "127.0.0.1", peer.port, "hotline", SECRET, **settings)


@dataclass
class Run:
    node: AmiNode
    events: list[AmiEvent] = field(default_factory=list)
    statuses: list[NodeStatus] = field(default_factory=list)

    def of(self, kind: type[Any]) -> list[Any]:
        return [event for event in self.events if isinstance(event, kind)]


@asynccontextmanager
async def running(
    peer: FakeAsterisk, on_event: Callable[[AmiEvent], None] | None = None, **overrides: Any
) -> AsyncIterator[Run]:
    events: list[AmiEvent] = []

    def record(event: AmiEvent) -> None:
        events.append(event)
        if on_event is not None:
            on_event(event)

    statuses: list[NodeStatus] = []
    run = Run(AmiNode(endpoint(peer, **overrides), record, statuses.append), events, statuses)
    task = asyncio.create_task(run.node.run())
    try:
        yield run
    finally:
        await asyncio.wait_for(run.node.stop(), 2)
        await asyncio.wait_for(task, 2)


async def test_login_then_resync_snapshot_is_delivered(peer: FakeAsterisk) -> None:
    async with running(peer) as run:
        await run.node.wait_logged_in(2)
        await peer.wait_until(lambda: bool(run.of(QueueSnapshot)))
        [snapshot] = run.of(QueueSnapshot)
        assert peer.logins == 1 and peer.resyncs == 1 and peer.login_events == ["on"]
        assert snapshot.node == "ast-a"
        assert [(m.member, m.status, m.in_call) for m in snapshot.members] == [
            ("op-1001", 2, True),
            ("op-1002", 1, False),
        ]
        assert [e.call_id for e in snapshot.entries] == ["1732280400.17", "1732280500.31"]
        assert snapshot.params[0].service_level_perf == 87.7
        status = run.node.status
        assert (status.connected, status.logged_in, status.last_error) == (True, True, None)
        assert status.since is not None and status.events_total >= 1
        assert [(s.connected, s.logged_in) for s in run.statuses] == [(True, False), (True, True)]


async def test_after_the_resync_a_census_of_live_calls_is_delivered(peer: FakeAsterisk) -> None:
    async with running(peer) as run:
        await peer.wait_until(lambda: bool(run.of(LiveCalls)))
        [live] = run.of(LiveCalls)
        assert live.node == "ast-a" and live.call_ids == {"1733560001.17", "1733560002.20"}
        assert peer.censuses == 1 and isinstance(run.events[-1], LiveCalls)


async def test_the_census_reads_and_clears_the_calls_answered_while_away(peer: FakeAsterisk) -> None:
    """The dialplan notes each answered call in AstDB: a call answered and ended during a
    restart is in the census's ``answered``, and the notes are cleared once read."""
    peer.answered_notes = {"1733560009.41": "1733560020", "not-a-call-id": "1"}
    async with running(peer) as run:
        await peer.wait_until(lambda: bool(run.of(LiveCalls)))
        [live] = run.of(LiveCalls)
        assert live.answered == {"1733560009.41"}
        assert peer.db_actions == ["DBGetTree", "DBDelTree"] and not peer.answered_notes


async def test_a_census_without_notes_has_none_answered(peer: FakeAsterisk) -> None:
    async with running(peer) as run:
        await peer.wait_until(lambda: bool(run.of(LiveCalls)))
        assert run.of(LiveCalls)[0].answered == frozenset() and peer.db_actions == ["DBGetTree", "DBDelTree"]


async def test_a_refused_census_leaves_the_link_up(peer: FakeAsterisk) -> None:
    peer.refuse_census = True
    async with running(peer) as run:
        await peer.wait_until(lambda: peer.censuses == 1)
        await asyncio.sleep(0.05)
        assert run.node.status.logged_in and not run.of(LiveCalls) and peer.connections == 1


async def test_manual_resync_returns_and_delivers_a_snapshot(peer: FakeAsterisk) -> None:
    async with running(peer) as run:
        await peer.wait_until(lambda: bool(run.of(QueueSnapshot)))
        snapshot = await run.node.resync()
        assert len(snapshot.members) == 2 and peer.resyncs == 2
        assert run.of(QueueSnapshot)[-1] is snapshot


async def test_pushed_events_arrive_typed(peer: FakeAsterisk) -> None:
    async with running(peer) as run:
        await peer.wait_until(lambda: bool(run.of(LiveCalls)))
        await peer.push(*split_messages(read_stream("unsubscribed.txt")))
        await peer.push(*split_messages(read_stream("queue_call_answered.txt")))
        await peer.push(*split_messages(read_stream("queue_members.txt")))
        await peer.wait_until(lambda: len(run.of(QueueMemberPause)) == 1)
        kinds = [type(event).__name__ for event in run.events]
        assert "FullyBooted" in kinds[:3]  # it may come before or after the resync's reply
        kinds.remove("FullyBooted")
        assert kinds[:2] == ["QueueSnapshot", "LiveCalls"]
        assert kinds[2:] == [
            "QueueCallerJoin",
            "AgentCalled",
            "QueueCallerLeave",
            "AgentConnect",
            "AgentComplete",
            "Hangup",
            "Hangup",
            "QueueMemberAdded",
            "QueueMemberPause",
            "QueueMemberStatus",
            "QueueMemberRemoved",
        ]
        [complete] = run.of(AgentComplete)
        assert (complete.call_id, complete.talk_seconds, complete.reason) == (
            "1732280400.17",
            321,
            "caller",
        )
        assert run.node.status.events_total == len(run.events)
        assert run.node.status.last_event_at is not None


async def test_refused_login_keeps_retrying_with_backoff(
    peer: FakeAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    peer.secret = "not-the-configured-one"
    async with running(peer) as run:
        await peer.wait_until(lambda: peer.refused_logins >= 5)
        status = run.node.status
        assert not status.logged_in and status.reconnects >= 4
        assert status.last_error is not None and "login refused" in status.last_error
        assert "ast-a" in status.last_error and SECRET not in status.last_error
        gaps = [b - a for a, b in zip(peer.connected_at, peer.connected_at[1:], strict=False)]
        # 0.02 s doubling, jittered, capped 0.1 s: the fourth wait longer than the first (both
        # late alike on a loaded machine, so no bound on the first alone).
        assert gaps[3] >= 0.045 and gaps[3] > gaps[0] + 0.015, gaps
        with pytest.raises(AmiUnavailable):
            await run.node.wait_logged_in(0.05)
    assert peer.logins == 0
    assert "login refused" in caplog.text and SECRET not in caplog.text


async def test_refused_login_is_reported_without_the_secret(peer: FakeAsterisk) -> None:
    peer.secret = "other"
    async with running(peer) as run:
        await peer.wait_until(lambda: run.node.status.last_error is not None)
        error = run.node.status.last_error or ""
    assert error == "AMI node 'ast-a': login refused (Authentication failed)"
    assert [(s.connected, s.logged_in) for s in run.statuses][:2] == [(True, False), (False, False)]
    assert AmiLoginFailed("ast-a", "x").error_id == "ami_login_failed"
    assert SECRET not in repr(endpoint(peer))


async def test_queue_add_reply_resolves(peer: FakeAsterisk) -> None:
    """panoramisk 1.4 alone waits forever for more of "Added interface to queue"."""
    async with running(peer) as run:
        await run.node.wait_logged_in(2)
        action = {"Action": "QueueAdd", "Queue": "support", "Interface": "PJSIP/op-1003"}
        reply = await run.node.send(action)
        assert reply.success and reply.message == "Added interface to queue"


async def test_an_async_originate_is_answered_by_its_first_reply_when_asked(peer: FakeAsterisk) -> None:
    """The AMI user subscribes to no OriginateResponse: call control takes the acceptance alone
    (panoramisk's rule waits for the event, which never comes)."""
    async with running(peer) as run:
        await run.node.wait_logged_in(2)
        action = {"Action": "Originate", "Channel": "PJSIP/100@partner", "Async": "true"}
        reply = await run.node.send(action, first_reply=True)
        assert reply.success and reply.message == "Originate successfully queued"
        with pytest.raises(AmiUnavailable, match="Originate: no reply"):
            await run.node.send(action)  # without: the event it waits for is never sent


async def test_dropped_connection_reconnects_and_resyncs(peer: FakeAsterisk) -> None:
    async with running(peer) as run:
        await peer.wait_until(lambda: len(run.of(QueueSnapshot)) == 1)
        peer.drop()
        await peer.wait_until(lambda: len(run.of(QueueSnapshot)) == 2)
        assert peer.logins == 2 and peer.resyncs == 2 and peer.connections == 2
        assert run.node.status.reconnects == 1 and run.node.status.logged_in
        assert "closed" in (run.node.status.last_error or "")
        await peer.push(*split_messages(read_stream("fully_booted.txt")))
        await peer.wait_until(lambda: len(run.of(FullyBooted)) == 3)


async def test_half_open_link_is_detected_by_the_heartbeat(peer: FakeAsterisk) -> None:
    async with running(peer) as run:
        await peer.wait_until(lambda: len(run.of(QueueSnapshot)) == 1)
        assert peer.connections == 1
        await peer.wait_until(lambda: peer.pings >= 2)
        peer.stall()
        started = time.monotonic()
        await peer.wait_until(lambda: len(run.of(QueueSnapshot)) == 2)
        assert time.monotonic() - started < 1.0  # heartbeat 0.1 + action_timeout 0.3 + backoff
        assert peer.connections == 2 and peer.resyncs == 2
        assert "Ping: no reply" in (run.node.status.last_error or "")


async def test_send_while_disconnected_raises_at_once(peer: FakeAsterisk) -> None:
    node = AmiNode(endpoint(peer), lambda event: None)
    started = time.monotonic()
    with pytest.raises(AmiUnavailable, match="ast-a") as caught:
        await node.send({"Action": "QueueStatus"})
    assert time.monotonic() - started < 0.05
    assert caught.value.node == "ast-a" and "not logged in" in caught.value.reason
    assert caught.value.error_id == "ami_unavailable"


async def test_send_on_a_silent_link_times_out(peer: FakeAsterisk) -> None:
    async with running(peer, heartbeat_interval=10.0) as run:
        await peer.wait_until(lambda: bool(run.of(QueueSnapshot)))
        peer.stall()
        started = time.monotonic()
        with pytest.raises(AmiUnavailable, match=r"QueueStatus: no reply in 0\.3s"):
            await run.node.send({"Action": "QueueStatus"})
        assert 0.25 < time.monotonic() - started < 0.6


async def test_pending_action_fails_when_the_link_drops(peer: FakeAsterisk) -> None:
    async with running(peer, heartbeat_interval=10.0, action_timeout=2.0) as run:
        await peer.wait_until(lambda: bool(run.of(QueueSnapshot)))
        peer.stall()
        pending = asyncio.create_task(run.node.send({"Action": "QueueStatus"}))
        await asyncio.sleep(0.05)
        started = time.monotonic()
        peer.drop()
        with pytest.raises(AmiUnavailable, match="connection closed"):
            await pending
        assert time.monotonic() - started < 0.5


async def test_raising_callback_does_not_kill_the_connection(
    peer: FakeAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(event: AmiEvent) -> None:
        if isinstance(event, AgentConnect):
            raise RuntimeError("callback failed for +79000000001")

    async with running(peer, on_event=explode) as run:
        await peer.wait_until(lambda: bool(run.of(QueueSnapshot)))
        await peer.push(*split_messages(read_stream("queue_call_answered.txt")))
        await peer.wait_until(lambda: len(run.of(Hangup)) == 2)
        assert run.node.status.events_failed == 1 and run.node.status.logged_in
        assert peer.connections == 1 and len(run.of(QueueCallerJoin)) == 1
    assert "AgentConnect event dropped (RuntimeError)" in caplog.text
    assert "79000000001" not in caplog.text


async def test_stop_interrupts_connecting_and_backoff(peer: FakeAsterisk) -> None:
    node = AmiNode(endpoint(peer, backoff_initial=5.0, backoff_max=5.0), lambda event: None)
    await peer.close()
    task = asyncio.create_task(node.run())
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await asyncio.wait_for(node.stop(), 1)
    await asyncio.wait_for(task, 1)
    assert time.monotonic() - started < 0.5
    assert "failed (ConnectionRefusedError)" in (node.status.last_error or "")
    await node.run()  # a stopped node stays stopped


async def test_logs_hold_no_personal_data_nor_secret(
    peer: FakeAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    async with running(peer) as run:
        caplog.set_level(logging.DEBUG)
        caplog.set_level(logging.DEBUG, logger=WIRE_LOGGER)  # even panoramisk's DEBUG output
        caplog.set_level(logging.DEBUG, logger="panoramisk")
        await peer.wait_until(lambda: bool(run.of(QueueSnapshot)))
        await run.node.resync()
        for name in ("queue_call_answered.txt", "queue_call_abandoned.txt", "unsubscribed.txt"):
            await peer.push(*split_messages(read_stream(name)))
        await peer.wait_until(lambda: len(run.of(Hangup)) == 3)
        peer.drop()
        await peer.wait_until(lambda: len(run.of(QueueSnapshot)) == 3)
    wire = [r for r in caplog.records if r.name == WIRE_LOGGER]
    assert wire and all(r.getMessage().startswith("panoramisk: <") for r in wire)
    assert any(r.name == "hotline.ami" for r in caplog.records)
    for token in (*PERSONAL, SECRET):
        assert token not in caplog.text, token
    assert not [r for r in caplog.records if r.name == "asyncio"]


async def test_an_outage_is_logged_once_and_its_end_too(
    peer: FakeAsterisk, caplog: pytest.LogCaptureFixture
) -> None:
    """Asterisk away for many attempts: one warning when the link goes down, one line when the
    node is back; every attempt still shows in the status (reconnects, last_error)."""
    port = peer.port
    await peer.close()
    caplog.set_level(logging.INFO, logger="hotline.ami")
    async with running(peer) as run:
        await peer.wait_until(lambda: run.node.status.reconnects >= 5)
        await peer.start(port)
        await run.node.wait_logged_in(3)
        down = [r.getMessage() for r in caplog.records if "link down" in r.getMessage()]
        assert len(down) == 1 and "ConnectionRefusedError" in down[0]
        assert caplog.text.count("ast-a: back after") == 1
        assert caplog.text.count("ast-a: connecting to") == 1  # the first try; the retries at DEBUG


async def test_a_run_that_raised_can_be_started_again(peer: FakeAsterisk) -> None:
    """What the task supervisor does after a bug escaped run(): a second run() works, and a
    stopped node still stays stopped."""
    node = AmiNode(endpoint(peer), lambda event: None)
    original = node._supervise

    async def broken() -> None:
        raise RuntimeError("a bug")

    node._supervise = broken  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        await node.run()
    node._supervise = original  # type: ignore[method-assign]
    task = asyncio.create_task(node.run())
    await node.wait_logged_in(2)
    await asyncio.wait_for(node.stop(), 2)
    await asyncio.wait_for(task, 2)
    await asyncio.wait_for(node.run(), 1)  # stopped: returns at once
