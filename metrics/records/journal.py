"""Finished call records as journal lines (core/journal.py): exactly the fields a
:class:`CallRecord` holds, times in ISO 8601 with their offset, the outcome by its value. A
record holds no caller number, so neither does the journal (var/records/, mode 0700)."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime
from typing import Any

from core.outbox import Codec
from metrics.records.record import CallRecord, Outcome

FIELDS = tuple(f.name for f in fields(CallRecord))
_KNOWN = frozenset(FIELDS)
_STAMPS = ("started_at", "ivr_ended_at", "queue_entered_at", "answered_at", "ended_at")


def encode(record: CallRecord) -> dict[str, Any]:
    values: dict[str, Any] = {name: getattr(record, name) for name in FIELDS}
    for name in _STAMPS:
        stamp = values[name]
        values[name] = stamp.isoformat() if stamp is not None else None
    values["outcome"] = record.outcome.value
    return values


def decode(line: Any) -> CallRecord:
    """A record from one line; ValueError or TypeError when the line is not one."""
    if not isinstance(line, dict) or not line.keys() <= _KNOWN:
        raise ValueError("not a call record")
    values = dict(line)
    for name in _STAMPS:
        if values.get(name) is not None:
            stamp = datetime.fromisoformat(values[name])
            if stamp.tzinfo is None:
                raise ValueError("a time without its offset")
            values[name] = stamp
    values["outcome"] = Outcome(values.get("outcome", Outcome.IN_PROGRESS))
    if not isinstance(values.get("started_at"), datetime):
        raise ValueError("a record without its start")
    return CallRecord(**values)


def ident(record: CallRecord) -> str:
    return record.id


CODEC = Codec(encode, decode, ident)
