"""The outbox against a fake database that can be down or refuse items, with a real journal:
order, backoff, one log line per outage, refusals kept, a stop or a crash in an outage."""

from __future__ import annotations

import asyncio
import errno
import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError, OperationalError

import core.journal
from core.db import is_outage
from core.journal import REJECTED, Journal
from core.outbox import Backlog, Codec, Outbox

WAIT = 30.0  # generous: only a broken outbox takes this long


@dataclass(frozen=True)
class Item:
    key: str
    value: int = 0


CODEC = Codec[Item](lambda i: {"key": i.key, "value": i.value}, lambda line: Item(**line), lambda i: i.key)


class FakeDatabase:
    """Saves batches as one transaction each; ``down`` raises what a stopped server raises,
    ``refuse`` names keys it refuses for their content."""

    def __init__(self) -> None:
        self.down = False
        self.refuse: set[str] = set()
        self.rows: dict[str, int] = {}
        self.commits: list[list[str]] = []
        self.attempts = 0

    def save(self, items: list[Item]) -> None:
        self.attempts += 1
        if self.down:
            raise OperationalError("INSERT", {}, ConnectionRefusedError(111, "Connection refused"))
        if any(i.key in self.refuse for i in items):
            raise IntegrityError("INSERT", {}, ValueError("a value too long"))
        self.rows.update({i.key: i.value for i in items})
        self.commits.append([i.key for i in items])

    def order(self) -> list[str]:
        return [key for commit in self.commits for key in commit]


def outbox(db: FakeDatabase, folder: Path | None, **options: Any) -> Outbox[Item]:
    journal = Journal(folder) if folder is not None else None
    options.setdefault("backoff", (0.01, 0.05))
    options.setdefault("interval", 0.01)
    return Outbox(db.save, CODEC, journal, is_outage, **options)


async def until(box: Outbox[Item], predicate: Callable[[Backlog], bool]) -> Backlog:
    return await asyncio.wait_for(box.wait_until(predicate), WAIT)


def files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def journalled(folder: Path) -> list[str]:
    return [
        json.loads(line)["key"]
        for path in sorted(folder.glob("journal-*.jsonl"))
        for line in path.read_text().splitlines()
    ]


async def test_items_wait_out_an_outage_and_are_saved_in_order_when_it_ends(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = FakeDatabase()
    db.down = True
    box = outbox(db, tmp_path, batch_size=3)
    keys = [f"k{i}" for i in range(10)]
    with caplog.at_level(logging.INFO, logger="hotline.outbox"):
        for key in keys:
            box.submit(Item(key))
        waiting = await until(box, lambda b: b.outage and db.attempts >= 5)
        assert (waiting.pending, waiting.saved_total) == (10, 0) and waiting.failed_tries_total >= 5
        assert waiting.oldest_pending_seconds >= 0
        assert journalled(tmp_path) == keys  # on disk, in order, while the database is away
        db.down = False
        done = await until(box, lambda b: b.pending == 0)
    assert db.order() == keys and all(len(c) <= 3 for c in db.commits)
    assert (done.saved_total, done.outage, done.oldest_pending_seconds) == (10, False, 0.0)
    assert journalled(tmp_path) == [] and files(tmp_path) == []
    logged = [(r.levelname, r.getMessage()) for r in caplog.records]
    assert [level for level, _ in logged] == ["WARNING", "INFO"]  # one line each, however many retries
    assert logged[0][1].startswith("the database is unavailable (OperationalError): ")
    assert "the database is back after" in logged[1][1] and "the 10 items that waited" in logged[1][1]
    await box.close()


async def test_the_delay_between_tries_doubles_up_to_its_cap_and_starts_again_after(tmp_path: Path) -> None:
    box = outbox(FakeDatabase(), tmp_path, backoff=(0.5, 30.0))
    refused = OperationalError("SELECT", {}, ConnectionRefusedError())
    assert [box._down(refused) for _ in range(9)] == [0.5, 1, 2, 4, 8, 16, 30, 30, 30]
    box._up()
    assert box._down(refused) == 0.5


async def test_an_item_refused_for_its_content_is_kept_apart_and_the_queue_moves_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = FakeDatabase()
    db.refuse = {"k2"}
    box = outbox(db, tmp_path, batch_size=10)
    for i in range(5):
        box.submit(Item(f"k{i}", value=1000 + i))
    with caplog.at_level(logging.ERROR, logger="hotline.outbox"):
        await asyncio.wait_for(box.flush(), WAIT)
    assert db.order() == ["k0", "k1", "k3", "k4"]
    assert [json.loads(line) for line in (tmp_path / REJECTED).read_text().splitlines()] == [
        {"key": "k2", "value": 1002}
    ]
    backlog = box.backlog()
    assert (backlog.pending, backlog.saved_total, backlog.rejected_total) == (0, 4, 1)
    [logged] = [r.getMessage() for r in caplog.records]
    assert logged.startswith("item k2 refused by the database (IntegrityError)") and "1002" not in logged
    assert journalled(tmp_path) == []
    await box.close()


async def test_a_refused_item_stays_in_its_segment_when_the_rejected_file_cannot_be_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = FakeDatabase()
    db.refuse = {"k1"}
    box = outbox(db, tmp_path)
    assert box._journal is not None
    monkeypatch.setattr(box._journal, "reject", lambda _entry: False)
    for key in ("k0", "k1", "k2"):
        box.submit(Item(key))
    await asyncio.wait_for(box.close(), WAIT)
    assert (db.order(), box.unfiled) == (["k0", "k2"], [Item("k1")])
    assert journalled(tmp_path) == ["k0", "k1", "k2"]  # its segment is kept whole
    monkeypatch.undo()
    again = outbox(db, tmp_path)  # the next start: saved again (idempotent), refused again, kept
    assert await asyncio.wait_for(again.replay(), WAIT) == 3
    assert [json.loads(line)["key"] for line in (tmp_path / REJECTED).read_text().splitlines()] == ["k1"]
    assert journalled(tmp_path) == []
    await again.close()


async def test_a_stop_during_an_outage_leaves_the_items_to_the_next_start(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = FakeDatabase()
    db.down = True
    box = outbox(db, tmp_path, backoff=(3600.0, 3600.0))  # only close() cuts the wait short
    for i in range(4):
        box.submit(Item(f"k{i}"))
    await until(box, lambda b: b.outage)
    tries = db.attempts
    with caplog.at_level(logging.WARNING, logger="hotline.outbox"):
        await asyncio.wait_for(box.close(), WAIT)
    assert db.attempts == tries + 1  # one last try, then the worker ends
    assert box.backlog().stopped and box.pending == 4
    assert (
        "4 items not saved when the writer stopped: they stay in the journal"
        in caplog.records[-1].getMessage()
    )
    db.down = False
    after = outbox(db, tmp_path)
    assert await asyncio.wait_for(after.replay(), WAIT) == 4
    assert db.order() == ["k0", "k1", "k2", "k3"] and journalled(tmp_path) == []
    await after.close()


async def test_a_crashed_process_leaves_its_journal_to_the_next_one_which_saves_it_first(
    tmp_path: Path,
) -> None:
    gone = FakeDatabase()
    gone.down = True
    crashed = outbox(gone, tmp_path)
    for i in range(5):
        crashed.submit(Item(f"k{i}"))
    await until(crashed, lambda b: b.outage)  # then never closed: the process "died"
    db = FakeDatabase()
    box = outbox(db, tmp_path)
    assert await asyncio.wait_for(box.replay(), WAIT) == 5
    box.submit(Item("new"))
    await asyncio.wait_for(box.flush(), WAIT)
    assert db.order() == ["k0", "k1", "k2", "k3", "k4", "new"]
    await box.close()
    await asyncio.wait_for(crashed.close(), WAIT)


async def test_segments_waiting_out_an_outage_are_synced_and_hold_no_descriptor(tmp_path: Path) -> None:
    db = FakeDatabase()
    db.down = True
    box = outbox(db, tmp_path, backoff=(3600.0, 3600.0))  # one try, then a long wait
    box.submit(Item("first"))
    await until(box, lambda b: b.outage)
    descriptors = len(os.listdir("/proc/self/fd"))
    for i in range(300):  # 300 segments arrive during the wait
        box.submit(Item(f"k{i}"))
        box._dispatch()
    queued = [segment for batch in box._s.queue for segment in batch.segments]
    assert len(queued) == 301 and len(os.listdir("/proc/self/fd")) <= descriptors + 1
    await until(box, lambda _: all(segment.synced for segment in queued))  # without another try
    assert db.attempts == 1
    db.down = False
    await asyncio.wait_for(box.close(), WAIT)
    assert db.order() == ["first", *[f"k{i}" for i in range(300)]] and journalled(tmp_path) == []


async def test_a_bug_in_the_worker_is_logged_and_the_worker_lives_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    names = iter([ZeroDivisionError, None])

    def ident(item: Item) -> str:  # fails the first time it is asked
        if (error := next(names)) is not None:
            raise error()
        return item.key

    db = FakeDatabase()
    db.refuse = {"k1"}
    codec = Codec[Item](CODEC.encode, CODEC.decode, ident)
    box = Outbox(db.save, codec, Journal(tmp_path), is_outage, interval=0.01, backoff=(0.01, 0.05))
    with caplog.at_level(logging.ERROR, logger="hotline.outbox"):
        for key in ("k0", "k1", "k2"):
            box.submit(Item(key))
        await asyncio.wait_for(box.flush(), WAIT)
    assert db.order() == ["k0", "k2"] and box.backlog().rejected_total == 1
    assert caplog.records[0].getMessage().startswith("the item writer failed (ZeroDivisionError at ")
    await box.close()


async def test_an_item_the_journal_cannot_take_is_still_saved_from_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(_fd: int, _data: bytes) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    db = FakeDatabase()
    box = outbox(db, tmp_path)
    box.submit(Item("k0"))
    with monkeypatch.context() as patch:
        patch.setattr(core.journal.os, "write", full)
        box.submit(Item("k1"))
    box.submit(Item("k2"))
    await asyncio.wait_for(box.flush(), WAIT)
    assert db.order() == ["k0", "k1", "k2"]
    assert box.backlog().journal_errors_total == 1
    await box.close()


async def test_without_a_journal_items_wait_in_memory(tmp_path: Path) -> None:
    db = FakeDatabase()
    db.down = True
    box = outbox(db, None)
    box.submit(Item("k0"))
    await until(box, lambda b: b.outage and b.pending == 1)
    db.down = False
    await until(box, lambda b: b.pending == 0)
    assert db.order() == ["k0"]
    await box.close()
