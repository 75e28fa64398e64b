"""A durable outbox: items handed over on the event loop are kept in a journal
(core/journal.py) and written to a database in batches by one worker thread, in the order they
came, whatever the database does meanwhile. The loop never waits for the database: ``submit``
is one journal append and a list append; the worker fsyncs each segment as it arrives (in an
outage too), saves, and removes the segment after the commit.

- **The database away** (``is_outage``: stopped, unreachable, restarting, a SQLite file locked
  by another writer): the batch waits, in the journal and in memory, and is tried again after a
  delay doubling from ``backoff[0]`` to ``backoff[1]``; newer items follow it in order. One
  warning when an outage starts, one info line when it ends (how long, how many waited).
- **The database refusing a batch for its content** (any other error): its items are saved one
  by one; one still refused goes to the journal's rejected file (kept, logged by its id only,
  counted) and the queue moves on.
- **The journal failing** (a full disk): logged once and counted by the journal; the item is
  kept in memory and saved like the others.
- **A journal left by an earlier process** (a crash, a stop in an outage): :meth:`Outbox.replay`
  saves it first, in order. Saves must be idempotent: an entry committed just before a crash,
  and not yet removed from the journal, is saved a second time.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from core.journal import Journal, Segment
from core.tasks import describe

log = logging.getLogger("hotline.outbox")
T = TypeVar("T")


@dataclass(frozen=True)
class Codec(Generic[T]):
    encode: Callable[[T], dict[str, Any]]  # one journal line
    decode: Callable[[Any], T]  # raises ValueError, TypeError or KeyError on a bad line
    ident: Callable[[T], str]  # what a log line may name: an id, never content


@dataclass(frozen=True)
class Backlog:
    pending: int  # handed over, neither saved nor refused yet
    oldest_pending_seconds: float  # how long the oldest of them has waited (0 when none)
    saved_total: int
    rejected_total: int  # refused by the database for their content (kept in the rejected file)
    journal_errors_total: int
    outage: bool  # the database is away right now
    stopped: bool  # the worker has ended (after close)
    failed_tries_total: int = 0  # saves that raised: the database away, or content refused

    def brief(self) -> dict[str, float]:
        """What /healthz and the wallboard show of it."""
        return {"pending": self.pending, "oldest_pending_seconds": round(self.oldest_pending_seconds, 1)}


@dataclass(eq=False)
class _Batch(Generic[T]):
    items: list[T]
    segments: list[Segment]
    since: float  # wall-clock time its first item was handed over
    keep: bool = False  # an item refused and not in the rejected file: its segment stays


@dataclass(eq=False)
class _Waiter:
    loop: asyncio.AbstractEventLoop
    future: asyncio.Future[Backlog]
    predicate: Callable[[Backlog], bool]


@dataclass
class _State:  # what the worker and the loop share, under Outbox._cond
    queue: deque[_Batch[Any]] = field(default_factory=deque)
    waiting: int = 0  # items in the queue
    handed: int = 0  # items ever queued
    settled: int = 0  # of those, saved or refused
    saved: int = 0
    rejected: int = 0
    failed_tries: int = 0
    down_since: float | None = None
    closing: bool = False
    last_try: bool = False
    stopped: bool = False
    waiters: list[_Waiter] = field(default_factory=list)
    unsynced: list[Segment] = field(default_factory=list)  # handed over, not fsync'd yet


class Outbox(Generic[T]):
    def __init__(
        self,
        save: Callable[[list[T]], None],
        codec: Codec[T],
        journal: Journal | None,
        is_outage: Callable[[BaseException], bool],
        *,
        name: str = "item",
        batch_size: int = 200,
        interval: float = 0.25,
        backoff: tuple[float, float] = (0.5, 30.0),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._save, self._codec, self._journal, self._is_outage = save, codec, journal, is_outage
        self._name, self._batch_size, self._interval, self._backoff = name, batch_size, interval, backoff
        self._clock = clock
        self._delay = backoff[0]
        self._cond = threading.Condition()
        self._s = _State()
        self._buffer: list[T] = []  # the event loop's, not handed to the worker yet
        self._buffer_since = 0.0
        self._timer: asyncio.TimerHandle | None = None
        self._thread: threading.Thread | None = None
        self.unfiled: list[T] = []  # refused and not written to the rejected file: kept here

    # -- the event loop's side --------------------------------------------------------------------
    def submit(self, item: T) -> None:
        if self._journal is not None:
            self._journal.append(self._codec.encode(item))  # False: logged and counted there
        if not self._buffer:
            self._buffer_since = self._clock()
        self._buffer.append(item)
        if len(self._buffer) >= self._batch_size:
            self._dispatch()
        elif self._timer is None:
            try:
                self._timer = asyncio.get_running_loop().call_later(self._interval, self._dispatch)
            except RuntimeError:  # no event loop (a script, a test): hand it over now
                self._dispatch()

    async def replay(self, wait: float = 10.0) -> int:
        """Queue what an earlier process left in the journal (call before the first ``submit``),
        and wait up to ``wait`` seconds for it to be saved."""
        count = await asyncio.to_thread(self._recover)
        if count:
            log.info("%d %ss left in the journal by an earlier run: saving them first", count, self._name)
            try:
                await asyncio.wait_for(self.flush(), wait)
            except TimeoutError:
                log.warning("the %ss of an earlier run are not all saved yet: they follow", self._name)
        return count

    async def flush(self) -> None:
        """Until everything handed over so far is saved or refused (or the worker has stopped)."""
        self._dispatch()
        target = self._s.handed
        if self._thread is not None:
            await self.wait_until(lambda _: self._s.settled >= target or self._s.stopped)

    async def close(self) -> None:
        """Save what is queued and end the worker (in an outage: one last try, the rest stays)."""
        self._dispatch()
        with self._cond:
            self._s.closing = True
            self._cond.notify_all()
        if self._thread is not None:
            await self.wait_until(lambda b: b.stopped)

    async def wait_until(self, predicate: Callable[[Backlog], bool]) -> Backlog:
        """The first backlog for which ``predicate`` holds (checked at each worker's change)."""
        loop = asyncio.get_running_loop()
        waiter = _Waiter(loop, loop.create_future(), predicate)
        with self._cond:
            self._s.waiters.append(waiter)
        try:
            self._check(waiter)
            return await waiter.future
        finally:
            with self._cond:
                self._s.waiters.remove(waiter)

    def backlog(self) -> Backlog:
        now = self._clock()
        with self._cond:
            s = self._s
            pending = s.waiting + len(self._buffer)
            oldest = next((b.since for b in s.queue if b.items), None)
            errors = self._journal.errors if self._journal is not None else 0
            figures = (s.saved, s.rejected, errors, s.down_since is not None, s.stopped, s.failed_tries)
        if self._buffer and (oldest is None or self._buffer_since < oldest):
            oldest = self._buffer_since
        return Backlog(pending, max(now - oldest, 0.0) if oldest is not None else 0.0, *figures)

    @property
    def pending(self) -> int:
        return self.backlog().pending

    def _dispatch(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        segments = self._journal.seal() if self._journal is not None else []
        if self._buffer:
            batch, self._buffer = _Batch(self._buffer, segments, self._buffer_since), []
            self._enqueue([batch])

    def _check(self, waiter: _Waiter) -> None:
        if not waiter.future.done() and waiter.predicate(backlog := self.backlog()):
            waiter.future.set_result(backlog)

    # -- shared -----------------------------------------------------------------------------------
    def _recover(self) -> int:
        if self._journal is None:
            return 0
        batches = [
            _Batch(found.entries, [found.segment], found.segment.since)
            for found in self._journal.recovered(self._codec.decode)
        ]
        self._enqueue(batches, first=True)
        return sum(len(b.items) for b in batches)

    def _enqueue(self, batches: list[_Batch[T]], first: bool = False) -> None:
        if not batches:
            return
        with self._cond:
            s = self._s
            if first:
                s.queue.extendleft(reversed(batches))
            else:
                s.queue.extend(batches)
            count = sum(len(b.items) for b in batches)
            s.waiting, s.handed = s.waiting + count, s.handed + count
            s.unsynced.extend(segment for batch in batches for segment in batch.segments)
            self._cond.notify_all()
            if self._thread is None and not s.closing:
                self._thread = threading.Thread(target=self._run, name=f"{self._name}s", daemon=True)
                self._thread.start()

    # -- the worker thread ------------------------------------------------------------------------
    def _run(self) -> None:
        while (batches := self._next()) is not None:
            try:
                delay = self._write(batches)
            except Exception as exc:  # a bug, not the database: the worker lives on, the batch waits
                log.error("the %s writer failed (%s): tried again later", self._name, describe(exc))
                delay = self._backoff[1]
            self._changed()
            if delay and not self._pause(delay):
                break
        if left := self._s.waiting:  # logged before ``stopped`` lets close() return
            where = "stay in the journal for the next start" if self._journal else "are lost"
            log.warning("%d %ss not saved when the writer stopped: they %s", left, self._name, where)
        with self._cond:
            self._s.stopped = True
        self._changed()

    def _next(self) -> list[_Batch[T]] | None:
        """The oldest batches, up to ``batch_size`` items in all (at least one batch)."""
        with self._cond:
            while not self._s.queue and not self._s.closing:
                self._cond.wait()
            taken: list[_Batch[T]] = []
            size = 0  # items taken
            for batch in self._s.queue:
                if taken and size + len(batch.items) > self._batch_size:
                    break
                taken.append(batch)
                size += len(batch.items)
            return taken or None

    def _pause(self, delay: float) -> bool:
        """Wait before the next try, syncing what arrives meanwhile (an outage is no reason to
        leave a record exposed to a power loss); False: the outbox is closing, stop now."""
        end = time.monotonic() + delay
        while True:
            self._sync()
            with self._cond:
                left = end - time.monotonic()
                if not self._s.closing and left > 0 and not self._s.unsynced:
                    self._cond.wait(left)  # new batches or close() wake it
                if self._s.closing:  # one last try after close(), then stop
                    self._s.last_try, last = True, self._s.last_try
                    return not last
                if left <= 0:
                    return True

    def _sync(self) -> None:
        """Every segment handed over so far reaches the disk."""
        with self._cond:
            segments, self._s.unsynced = self._s.unsynced, []
        if segments and self._journal is not None:
            self._journal.sync(segments)
            self._changed()

    def _write(self, batches: list[_Batch[T]]) -> float:
        """Save the batches in one transaction; the delay before the next try (0: progress)."""
        items = [item for batch in batches for item in batch.items]
        self._sync()  # these batches' segments, and any queued behind them
        if not items:  # a recovered segment with nothing readable left in it
            for batch in batches:
                self._finish(batch)
            return 0.0
        try:
            self._save(items)
        except Exception as exc:
            self._failed_try()
            if self._is_outage(exc):
                return self._down(exc)
            reason = type(exc).__name__
            log.warning("%d %ss refused together (%s): saved one by one", len(items), self._name, reason)
            return self._one_by_one(batches)
        self._up()
        for batch in batches:
            self._settle(batch, saved=len(batch.items))
            self._finish(batch)
        return 0.0

    def _one_by_one(self, batches: list[_Batch[T]]) -> float:
        for batch in batches:
            while batch.items:
                try:
                    self._save(batch.items[:1])
                except Exception as exc:
                    self._failed_try()
                    if self._is_outage(exc):
                        return self._down(exc)
                    self._reject(batch, exc)
                else:
                    self._up()
                    self._settle(batch, saved=1)
            self._finish(batch)
        return 0.0

    def _reject(self, batch: _Batch[T], exc: Exception) -> None:
        item = batch.items[0]
        ident, reason = self._codec.ident(item), type(exc).__name__
        if self._journal is not None and self._journal.reject(self._codec.encode(item)):
            log.error("%s %s refused by the database (%s): kept in rejected.jsonl", self._name, ident, reason)
        else:
            batch.keep = True
            self.unfiled.append(item)
            log.error("%s %s refused by the database (%s): kept in memory", self._name, ident, reason)
        self._settle(batch, rejected=1)

    def _settle(self, batch: _Batch[T], saved: int = 0, rejected: int = 0) -> None:
        with self._cond:
            del batch.items[: saved + rejected]
            s = self._s
            s.waiting -= saved + rejected
            s.settled += saved + rejected
            s.saved, s.rejected = s.saved + saved, s.rejected + rejected

    def _failed_try(self) -> None:
        with self._cond:
            self._s.failed_tries += 1  # every one counted (only the outage's first is logged)

    def _finish(self, batch: _Batch[T]) -> None:
        if self._journal is not None and not batch.keep:
            for segment in batch.segments:
                self._journal.commit(segment)
        with self._cond:
            self._s.queue.remove(batch)

    def _down(self, exc: BaseException) -> float:
        with self._cond:
            first = self._s.down_since is None
            if first:
                self._s.down_since = self._clock()
            waiting = self._s.waiting
        if first:
            where = "in the journal" if self._journal is not None else "in memory"
            log.warning(
                "the database is unavailable (%s): %d %ss wait %s, retried with a backoff of up to %g s",
                type(exc).__name__,
                waiting,
                self._name,
                where,
                self._backoff[1],
            )
        delay, self._delay = self._delay, min(self._delay * 2, self._backoff[1])
        return delay

    def _up(self) -> None:
        self._delay = self._backoff[0]
        with self._cond:
            since, self._s.down_since = self._s.down_since, None
            waiting = self._s.waiting
        if since is not None:
            log.info(
                "the database is back after %.1f s: the %d %ss that waited are saved in order",
                self._clock() - since,
                waiting,
                self._name,
            )

    def _changed(self) -> None:
        """Every waiter re-checks its predicate on its own event loop."""
        with self._cond:
            waiters = list(self._s.waiters)
        for waiter in waiters:
            try:
                waiter.loop.call_soon_threadsafe(self._check, waiter)
            except RuntimeError:  # that loop is closed
                continue
