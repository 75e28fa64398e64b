"""core/leader.py against a real PostgreSQL (127.0.0.1:5432): one leader at a time, and another
takes over when the leader's session dies (terminated by the server, as when its process or
host is gone)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from core.db import make_engine
from core.leader import Leadership, lock_key
from tests.databases import migrated_postgres


@pytest.fixture
def pg() -> Iterator[Engine]:
    yield from migrated_postgres(lambda _engine: None)


def _terminate(engine: Engine, key: int) -> int:
    """End the session holding the advisory lock ``key`` (what the server does for a dead client)."""
    hi, lo = (key >> 32) & 0xFFFFFFFF, key & 0xFFFFFFFF
    holder = text(
        "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
        " AND classid::bigint = :hi AND objid::bigint = :lo"
    )
    with engine.connect() as conn:
        pids = [row[0] for row in conn.execute(holder, {"hi": hi, "lo": lo})]
        for pid in pids:
            conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    return len(pids)


def test_the_key_is_stable_and_signed_64_bit() -> None:
    assert lock_key("hotline-leader") == lock_key("hotline-leader")
    assert -(2**63) <= lock_key("x") < 2**63
    assert lock_key("a") != lock_key("b")


@pytest.mark.postgres
def test_one_leader_and_a_handover_when_its_session_dies(pg: Engine) -> None:
    async def scenario() -> None:
        first, second = Leadership(pg, "test-lead", every=0.05), Leadership(pg, "test-lead", every=0.05)
        heard: list[bool] = []
        second.listeners.append(heard.append)
        assert await first.round() is True
        assert await second.round() is False
        assert await first.round() is True  # still held: checked, not taken again
        assert await second.round() is False
        assert await asyncio.to_thread(_terminate, pg, lock_key("test-lead")) == 1
        assert await second.round() is True  # the lock is free as soon as the session ends
        assert await first.round() is False  # the old leader finds out at its next check
        assert (first.leading, second.leading, heard) == (False, True, [True])
        assert await first.round() is False  # asks again on a new session: the second holds it
        second_task = asyncio.create_task(second.run())
        await asyncio.sleep(0.1)
        second_task.cancel()  # a stop gives the lock back at once
        with pytest.raises(asyncio.CancelledError):
            await second_task
        assert heard == [True, False]
        assert await first.round() is True
        await asyncio.to_thread(first._close)

    asyncio.run(scenario())


@pytest.mark.postgres
def test_a_killed_leader_is_replaced_within_a_few_rounds(pg: Engine) -> None:
    """Two instances running their loops; the leader's session is killed: the other leads
    within a second, and never both for longer than a round."""

    async def scenario() -> None:
        a, b = Leadership(pg, "test-kill", every=0.1), Leadership(pg, "test-kill", every=0.1)
        tasks = [asyncio.create_task(a.run()), asyncio.create_task(b.run())]
        await asyncio.sleep(0.5)
        assert [a.leading, b.leading].count(True) == 1
        leader, other = (a, b) if a.leading else (b, a)
        await asyncio.to_thread(_terminate, pg, lock_key("test-kill"))
        for _ in range(20):
            await asyncio.sleep(0.1)
            if other.leading and not leader.leading:
                break
        assert (other.leading, leader.leading) == (True, False)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    asyncio.run(scenario())


def test_sqlite_always_leads(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.sqlite3'}")
    lead = Leadership(engine)
    assert asyncio.run(lead.round()) is True
    assert lead.leading
