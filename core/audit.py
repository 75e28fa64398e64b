"""The audit log: who changed what, and who read what is sensitive, when and from where
(issue 18, item 4). Append-only and chained: each entry carries the hash of the one before, so
an entry removed, edited or slipped in between is found by :func:`verify` (``hotline audit
verify``).

- An entry is made on the event loop (:class:`AuditLog`, a durable outbox: a journal line, then
  one worker thread saves in order). The database away loses none: they wait in the journal.
- The chain is built when an entry is saved, in one transaction that takes the newest entry's
  number and hash (PostgreSQL: under a transaction-level advisory lock, so two processes writing
  at once still make one chain). An entry saved twice (a replay after a crash) is skipped by id.
- What an entry holds: the actor's pseudonym and role, the client's address, the action (the
  route: method and path template), its target (the path's parameters), the answer's status and
  ``details`` a route chose to add (e.g. a setting before and after). Never a body, a token, a
  secret or a caller's number: the middleware (hotline/audit.py) records nothing else.
- Retention removes the oldest entries (``privacy.audit_retention_days``); the chain then starts at the
  oldest one kept, whose predecessor's hash it still carries.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, Integer, String, Text, delete, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import is_outage
from core.journal import Journal
from core.orm import Base, stored_utc
from core.outbox import Codec, Outbox

log = logging.getLogger("hotline.audit")
GENESIS = "0" * 64  # the "hash before" of the very first entry
_LOCK_KEY = 0x4855_4C41  # PostgreSQL advisory lock of the chain's tail ("HULA")
_MAX_DETAILS = 4000  # characters of details kept; more is cut and marked
# A route may put a mapping here on request.state (e.g. a setting before and after): never a secret.
DETAILS_KEY = "audit_details"
# The stored fields an entry's hash covers, in this order (with its number and the hash before).
HASHED = ("id", "at", "actor", "role", "address", "action", "target", "status", "details")


class AuditRow(Base):
    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    id: Mapped[str] = mapped_column(String(32), unique=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    actor: Mapped[str] = mapped_column(String(80), index=True)
    role: Mapped[str] = mapped_column(String(16))
    address: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(120), index=True)
    target: Mapped[str] = mapped_column(String(200))
    status: Mapped[int] = mapped_column(Integer)
    details: Mapped[str] = mapped_column(Text)  # JSON
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


@dataclass(frozen=True)
class AuditEntry:
    actor: str  # a person's pseudonym, "token:<name>#<id>", "kiosk:<label>", "anonymous", "system"
    role: str
    address: str
    action: str  # e.g. "PUT /api/ivr/draft/yaml", "auth.refused"
    target: str = ""  # e.g. "operator_id=op-anna"
    status: int = 0
    details: Mapping[str, Any] = field(default_factory=dict)
    at: datetime = field(default_factory=lambda: datetime.now(UTC))
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


def note(request: Any, **details: Any) -> None:
    """For a route: add these to the audit entry its request will leave (hotline/audit.py), e.g.
    a setting before and after. Never a secret, a body as such, or anything about a caller."""
    current = dict(getattr(request.state, DETAILS_KEY, None) or {})
    setattr(request.state, DETAILS_KEY, {**current, **details})


def changes(before: object, after: object, fields: Iterable[str]) -> dict[str, dict[str, Any]]:
    """The fields that differ, each as {"before", "after"}: for a route's :func:`note`."""
    out = {}
    for name in fields:
        old, new = _plain(getattr(before, name)), _plain(getattr(after, name))
        if old != new:
            out[name] = {"before": old, "after": new}
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    return str(value)


def _encode(e: AuditEntry) -> dict[str, Any]:
    return {
        "id": e.id,
        "at": e.at.isoformat(),
        "actor": e.actor,
        "role": e.role,
        "address": e.address,
        "action": e.action,
        "target": e.target,
        "status": e.status,
        "details": dict(e.details),
    }


def _decode(line: Any) -> AuditEntry:
    return AuditEntry(
        actor=str(line["actor"]),
        role=str(line["role"]),
        address=str(line["address"]),
        action=str(line["action"]),
        target=str(line["target"]),
        status=int(line["status"]),
        details=dict(line["details"]),
        at=datetime.fromisoformat(line["at"]),
        id=str(line["id"]),
    )


CODEC: Codec[AuditEntry] = Codec(_encode, _decode, lambda e: e.id)


def details_json(details: Mapping[str, Any]) -> str:
    text_ = json.dumps(details, sort_keys=True, ensure_ascii=False, default=str, separators=(",", ":"))
    if len(text_) > _MAX_DETAILS:
        text_ = json.dumps({"cut": text_[:_MAX_DETAILS]}, ensure_ascii=False, separators=(",", ":"))
    return text_


def entry_hash(seq: int, row: Mapping[str, Any], prev_hash: str) -> str:
    """The hash an entry carries: of its number, every field as stored (``HASHED``), and the
    hash before it."""
    at = stored_utc(row["at"]).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    values = {**row, "at": at, "status": int(row["status"])}
    canonical = json.dumps(
        [seq, *(values[c] for c in HASHED), prev_hash], ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def save_many(self, entries: list[AuditEntry]) -> None:
        """Append in order, chained; entries already saved (by id) are skipped."""
        with self._engine.begin() as conn:
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_KEY})
            last = conn.execute(
                select(AuditRow.seq, AuditRow.hash).order_by(AuditRow.seq.desc()).limit(1)
            ).first()
            seq, prev = (last[0], last[1]) if last else (0, GENESIS)
            ids = [e.id for e in entries]
            known = set(conn.scalars(select(AuditRow.id).where(AuditRow.id.in_(ids))))
            rows = []
            for e in entries:
                if e.id in known:
                    continue
                known.add(e.id)
                seq += 1
                row = {
                    "id": e.id,
                    "at": e.at.astimezone(UTC),
                    "actor": e.actor[:80],
                    "role": e.role[:16],
                    "address": e.address[:64],
                    "action": e.action[:120],
                    "target": e.target[:200],
                    "status": e.status,
                    "details": details_json(e.details),
                }
                digest = entry_hash(seq, row, prev)
                rows.append({**row, "seq": seq, "prev_hash": prev, "hash": digest})
                prev = digest
            if rows:
                conn.execute(insert(AuditRow), rows)

    def entries(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        after_seq: int = 0,
        limit: int = 200,
    ) -> list[dict[str, Any]]:
        query = select(AuditRow).where(AuditRow.seq > after_seq).order_by(AuditRow.seq).limit(limit)
        if actor:
            query = query.where(AuditRow.actor == actor)
        if action:
            query = query.where(AuditRow.action.contains(action, autoescape=True))
        if since:
            query = query.where(AuditRow.at >= since)
        if until:
            query = query.where(AuditRow.at < until)
        with Session(self._engine) as session:
            return [_public(r) for r in session.scalars(query)]

    def prune(self, older_than: timedelta, now: datetime | None = None) -> int:
        """Remove entries older than this; the newest entry always stays (the chain's tail)."""
        cutoff = (now or datetime.now(UTC)) - older_than
        with self._engine.begin() as conn:
            newest = conn.scalar(select(AuditRow.seq).order_by(AuditRow.seq.desc()).limit(1))
            if newest is None:
                return 0
            result = conn.execute(delete(AuditRow).where(AuditRow.at < cutoff, AuditRow.seq < newest))
            return int(result.rowcount or 0)

    def rows(self, batch: int = 1000) -> Iterator[AuditRow]:
        after = -1
        with Session(self._engine) as session:
            while True:
                query = select(AuditRow).where(AuditRow.seq > after).order_by(AuditRow.seq).limit(batch)
                chunk = list(session.scalars(query))
                if not chunk:
                    return
                yield from chunk
                after = chunk[-1].seq


def _public(r: AuditRow) -> dict[str, Any]:
    return {
        "seq": r.seq,
        "at": stored_utc(r.at).isoformat(),
        "actor": r.actor,
        "role": r.role,
        "address": r.address,
        "action": r.action,
        "target": r.target,
        "status": r.status,
        "details": json.loads(r.details),
    }


@dataclass(frozen=True)
class Verdict:
    ok: bool
    checked: int
    first_seq: int | None
    problem: str = ""  # what is wrong, naming the entry

    def line(self) -> str:
        if not self.ok:
            return f"audit chain BROKEN: {self.problem}"
        if not self.checked:
            return "audit log empty: nothing to verify"
        start = (
            "the beginning"
            if self.first_seq == 1
            else f"entry {self.first_seq} (older ones removed by retention)"
        )
        return f"audit chain intact: {self.checked} entries from {start}"


def verify(store: AuditStore) -> Verdict:
    """Walk the chain: numbers without gaps, each entry's hash recomputed from what is stored,
    each one naming the hash of the one before. The first fault found is named."""
    checked, first, expected_seq, prev = 0, None, None, None
    for r in store.rows():
        row = {c: getattr(r, c) for c in HASHED}
        if first is None:
            first, prev = r.seq, r.prev_hash
            if r.seq == 1 and r.prev_hash != GENESIS:
                return Verdict(
                    False, checked, first, "entry 1 does not start from the beginning of the chain"
                )
        elif r.seq != expected_seq:
            return Verdict(False, checked, first, f"entries {expected_seq} to {r.seq - 1} are missing")
        if r.prev_hash != prev:
            return Verdict(
                False, checked, first, f"entry {r.seq} does not follow entry {r.seq - 1} (its link differs)"
            )
        if entry_hash(r.seq, row, r.prev_hash) != r.hash:
            return Verdict(
                False, checked, first, f"entry {r.seq} was changed after it was written ({r.action})"
            )
        checked, expected_seq, prev = checked + 1, r.seq + 1, r.hash
    return Verdict(True, checked, first)


class AuditLog(Outbox[AuditEntry]):
    """Entries handed over on the loop, saved in order by a worker; a journal in ``journal_dir``
    keeps them through a database outage or a crash (memory only without one: tests)."""

    def __init__(self, store: AuditStore, journal_dir: Path | None = None, **options: Any) -> None:
        journal = Journal(journal_dir) if journal_dir is not None else None
        super().__init__(store.save_many, CODEC, journal, is_outage, name="audit entry", **options)
        self.store = store

    def record(self, entry: AuditEntry) -> None:
        self.submit(entry)
