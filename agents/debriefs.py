"""Debrief requests (issue 17, item 3): after a heavy call an operator asks a shift lead for a
debrief; leads see the open requests on the wallboard, start one (the operator is paused with
reason ``debrief``, recorded on the request) and close it (who, when, an outcome note; the
debrief's own pause ends with it unless the lead keeps it).

A request may name the call it is about (its record id: the operator's own call, never a
number) and carry a short note. Notes and outcomes are screened like the after-call summary's
free text (privacy/text.py): a phone number, an e-mail address, a run of digits or an address is
refused (422), and no error or log line holds the text. An operator has one open request at a
time. The burnout guard suggests a debrief after the calls it acts on (agents/guard.py
``suggest_debrief``); a request made from that suggestion says so (``suggested``).

The table is written in worker threads, never on the event loop; the open requests are kept in
memory too, for the wallboard's snapshot (which is built on the loop).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from agents.directory import Operator
from agents.exceptions import (
    DebriefCallNotFound,
    DebriefClosed,
    DebriefNotFound,
    DebriefOpen,
    DebriefPersonalData,
    Forbidden,
)
from agents.models import DebriefRow
from agents.presence import PauseReason, PauseSource, Presence
from core.errors import where
from core.orm import stored_utc
from privacy.text import personal_data

log = logging.getLogger("hotline.agents")
# (record id, the operator asking) -> the call's operator ("": nobody took it), None: no such call
CallOwner = Callable[[str, str], Awaitable[str | None]]


@dataclass(frozen=True)
class Debrief:
    id: int
    operator: str
    record_id: str | None
    note: str | None
    suggested: bool
    requested_at: datetime
    started_at: datetime | None = None
    started_by: str | None = None
    paused: bool = False
    closed_at: datetime | None = None
    closed_by: str | None = None
    outcome: str | None = None

    @property
    def state(self) -> str:
        return "closed" if self.closed_at else "started" if self.started_at else "open"


def _debrief(r: DebriefRow) -> Debrief:
    return Debrief(
        r.id,
        r.operator,
        r.record_id,
        r.note,
        r.suggested,
        stored_utc(r.requested_at),
        stored_utc(r.started_at),
        r.started_by,
        r.paused,
        stored_utc(r.closed_at),
        r.closed_by,
        r.outcome,
    )


class DebriefStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def add(
        self, operator: str, record_id: str | None, note: str | None, suggested: bool, at: datetime
    ) -> Debrief:
        with Session(self._engine) as session, session.begin():
            row = DebriefRow(
                operator=operator,
                record_id=record_id,
                note=note,
                suggested=suggested,
                requested_at=at,
                paused=False,
            )
            session.add(row)
            session.flush()
            return _debrief(row)

    def get(self, debrief_id: int) -> Debrief:
        with Session(self._engine) as session:
            row = session.get(DebriefRow, debrief_id)
            if row is None:
                raise DebriefNotFound(f"no debrief request {debrief_id}")
            return _debrief(row)

    def started(self, debrief_id: int, by: str, at: datetime, paused: bool) -> Debrief:
        with Session(self._engine) as session, session.begin():
            row = session.get(DebriefRow, debrief_id)
            if row is None:
                raise DebriefNotFound(f"no debrief request {debrief_id}")
            row.started_at, row.started_by, row.paused = at, by, row.paused or paused
            return _debrief(row)

    def closed(self, debrief_id: int, by: str, at: datetime, outcome: str | None) -> Debrief:
        with Session(self._engine) as session, session.begin():
            row = session.get(DebriefRow, debrief_id)
            if row is None:
                raise DebriefNotFound(f"no debrief request {debrief_id}")
            row.closed_at, row.closed_by, row.outcome = at, by, outcome
            return _debrief(row)

    def open(self) -> list[Debrief]:
        query = select(DebriefRow).where(DebriefRow.closed_at.is_(None)).order_by(DebriefRow.id)
        with Session(self._engine) as session:
            return [_debrief(r) for r in session.scalars(query)]

    def recent(self, operator: str | None = None, limit: int = 100) -> list[Debrief]:
        query = select(DebriefRow).order_by(DebriefRow.id.desc()).limit(limit)
        if operator is not None:
            query = query.where(DebriefRow.operator == operator)
        with Session(self._engine) as session:
            return [_debrief(r) for r in session.scalars(query)]


def screened(text: str | None, field: str) -> str | None:
    """The text as kept (stripped; empty: None); personal data refused, never echoed."""
    text = (text or "").strip()
    if not text:
        return None
    found = personal_data(text)
    if found is not None:
        raise DebriefPersonalData(
            f"the {field.rsplit('.', 1)[-1]} seems to hold {found.value}: write it without",
            where(field, found.name),
        )
    return text


def _now() -> datetime:
    return datetime.now(UTC)


class Debriefs:
    """``operator(id)``: the directory's read (UnknownOperator); ``call_owner``: who took a
    call, by its record id; ``paused_reason(id)``: the operator's pause reason now ("" if none)."""

    def __init__(
        self,
        store: DebriefStore,
        presence: Presence,
        operator: Callable[[str], Operator],
        call_owner: CallOwner,
        logged_in: Callable[[str], bool],
        paused_reason: Callable[[str], str],
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._store = store
        self._presence = presence
        self._operator = operator
        self._call_owner = call_owner
        self._logged_in = logged_in
        self._paused_reason = paused_reason
        self._clock = clock
        self._open: dict[int, Debrief] = {}
        self.listeners: list[Callable[[], None]] = []  # told after every change (the wallboard)

    async def load(self) -> None:
        self._open = {d.id: d for d in await asyncio.to_thread(self._store.open)}
        self._changed()

    def open_now(self) -> list[Debrief]:
        """Requests not closed yet, oldest first (memory only: for the wallboard's snapshot)."""
        return sorted(self._open.values(), key=lambda d: d.id)

    async def recent(self, operator: str | None = None) -> list[Debrief]:
        if operator is not None:
            await asyncio.to_thread(self._operator, operator)  # unknown operator: 404
        return await asyncio.to_thread(self._store.recent, operator)

    async def request(
        self, operator_id: str, record_id: str | None, note: str | None, suggested: bool = False
    ) -> Debrief:
        operator = await asyncio.to_thread(self._operator, operator_id)
        kept = screened(note, "body.note")
        mine = next((d for d in self._open.values() if d.operator == operator.id), None)
        if mine is not None:
            raise DebriefOpen(f"operator '{operator.id}' has an open debrief request", {"id": mine.id})
        if record_id is not None:
            owner = await self._call_owner(record_id, operator.id)
            if owner is None:
                raise DebriefCallNotFound(f"no call record {record_id}")
            if owner != operator.id:
                raise Forbidden("a debrief request may name only a call the operator took")
        made = await asyncio.to_thread(
            self._store.add, operator.id, record_id, kept, suggested, self._clock()
        )
        self._open[made.id] = made
        self._changed()
        log.info("debrief %d requested by %s", made.id, operator.id)
        return made

    async def start(self, debrief_id: int, by: str) -> Debrief:
        """The lead starts the debrief: a logged-in operator is paused with reason debrief."""
        found = await self._unclosed(debrief_id)
        paused = False
        if self._logged_in(found.operator):
            await self._presence.pause(found.operator, PauseReason.DEBRIEF, PauseSource.SHIFT_LEAD)
            paused = True
        started = await asyncio.to_thread(self._store.started, found.id, by, self._clock(), paused)
        self._open[started.id] = started
        self._changed()
        log.info("debrief %d started by %s", started.id, by)
        return started

    async def close(self, debrief_id: int, by: str, outcome: str | None, resume: bool = True) -> Debrief:
        """Closed with an outcome note; ``resume``: the pause its start began ends (when the
        operator is still in it)."""
        kept = screened(outcome, "body.outcome")
        found = await self._unclosed(debrief_id)
        operator = found.operator
        in_it = self._logged_in(operator) and self._paused_reason(operator) == PauseReason.DEBRIEF.value
        if resume and found.paused and in_it:
            await self._presence.resume(operator)
        closed = await asyncio.to_thread(self._store.closed, found.id, by, self._clock(), kept)
        self._open.pop(closed.id, None)
        self._changed()
        log.info("debrief %d closed by %s", closed.id, by)
        return closed

    async def _unclosed(self, debrief_id: int) -> Debrief:
        found = await asyncio.to_thread(self._store.get, debrief_id)
        if found.closed_at is not None:
            raise DebriefClosed(f"debrief request {debrief_id} is closed already")
        return found

    def _changed(self) -> None:
        for listener in self.listeners:
            try:
                listener()
            except Exception:  # a listener never stops a debrief
                log.exception("a debrief listener failed")
