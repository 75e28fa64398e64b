"""Call records as journal lines: exactly a record's fields, every one back as it was; a line
that is not a record is refused (and the journal reports it, tests/core/test_journal.py)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from metrics.records.journal import FIELDS, decode, encode, ident
from metrics.records.record import CallRecord, Outcome

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
BERLIN = timezone(timedelta(hours=1))


def full_record() -> CallRecord:
    return CallRecord(
        id="a" * 32,
        node="local",
        call_id="1764000000.42",
        started_at=T0,
        ivr_ended_at=T0 + timedelta(seconds=9.5),
        queue_entered_at=(T0 + timedelta(seconds=10)).astimezone(BERLIN),
        answered_at=T0 + timedelta(seconds=31.25),
        ended_at=T0 + timedelta(minutes=12),
        language="ru",
        menu_version="7",
        path="2>1",
        topic="crisis",
        queue="crisis",
        route_reason="menu",
        fallback=False,
        outcome=Outcome.ANSWERED,
        wait_seconds=21.25,
        talk_seconds=688.75,
        operator="op-anna",
        complete=True,
        priority=5,
        after_hours=False,
        referral=None,
        overflowed=True,
        escalated=True,
        survey_score=4,
        wrapup_seconds=30.0,
        repeat_count=2,
    )


def through_a_line(record: CallRecord) -> CallRecord:
    return decode(json.loads(json.dumps(encode(record))))


def test_every_field_comes_back_as_it_was() -> None:
    record = full_record()
    again = through_a_line(record)
    assert again == record and again.queue_entered_at is not None
    assert again.queue_entered_at.utcoffset() == timedelta(hours=1)
    bare = CallRecord(id="b", node="n", call_id="c", started_at=T0)  # defaults and Nones
    assert through_a_line(bare) == bare
    assert ident(record) == record.id


def test_a_line_holds_exactly_the_fields_of_a_record() -> None:
    line = encode(full_record())
    assert tuple(line) == FIELDS == tuple(f.name for f in dataclasses.fields(CallRecord))
    assert not {"caller", "callerid", "number", "calleridnum", "connectedline"} & set(line)
    assert line["outcome"] == "answered" and line["started_at"] == "2026-11-22T12:00:00+00:00"


@pytest.mark.parametrize(
    "change",
    [
        {"caller": "+79000000001"},  # a key no record has
        {"started_at": "2026-11-22T12:00:00"},  # a time without its offset
        {"started_at": None},
        {"started_at": "yesterday"},
        {"outcome": "lost"},
        {"priority": None, "unknown": 1},
    ],
)
def test_a_line_that_is_not_a_record_is_refused(change: dict[str, Any]) -> None:
    line = {**encode(full_record()), **change}
    with pytest.raises((ValueError, TypeError)):
        decode(json.loads(json.dumps(line)))


@pytest.mark.parametrize("line", [[], "record", 7, None])
def test_a_line_that_is_no_object_is_refused(line: Any) -> None:
    with pytest.raises(ValueError):
        decode(line)
