"""The after-call summary: every refusal with its error id and the field it names (never the
value); who may save it and until when; kept one per call, replaced, deleted with its record by
retention; on SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from agents.exceptions import Forbidden
from core.errors import DomainError
from ivr.document import IvrDocument
from metrics.records.exceptions import (
    CallNotFound,
    CallNotTaken,
    SummaryInvalidValue,
    SummaryMissingField,
    SummaryNotFound,
    SummaryPersonalData,
    SummaryTextNotAllowed,
    SummaryTextTooLong,
    SummaryUnknownField,
    SummaryWindowClosed,
)
from metrics.records.models import CallSummaryRow
from metrics.records.record import CallRecord, Outcome
from metrics.records.retention import Retention
from metrics.records.store import RecordStore
from metrics.records.summary import SummaryService, check
from metrics.records.summary_store import SummaryStore
from tests.metrics.records.summary_forms import desk_document, form
from tests.metrics.records.test_retention import call

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
DOC = desk_document()
GOOD: dict[str, Any] = {
    "risk": "high",
    "needs": ["food", "legal", "food"],
    "follow-up": True,
    "issues": ["panic"],
    "referral": "crisis-team",
    "note": "  calmer at the end, age 30-40  ",
}


# -- the form's check (no database) ---------------------------------------------------------------
def test_a_summary_of_the_forms_values_is_kept_as_given() -> None:
    fields, texts = check(form(), DOC, "crisis", GOOD)
    assert fields == {
        "risk": "high",
        "needs": ["food", "legal"],  # each once
        "follow-up": True,
        "issues": ["panic"],
        "referral": "crisis-team",
    }
    assert texts == {"note": "calmer at the end, age 30-40"}  # texts apart: nothing counts them


def test_fields_not_given_are_left_out() -> None:
    fields, texts = check(form(), DOC, "crisis", {"risk": "low", "needs": [], "note": " ", "issues": None})
    assert (fields, texts) == ({"risk": "low"}, {})


REFUSALS = [
    ({"colour": "red"}, SummaryUnknownField, "values.colour"),
    ({"Not a slug +7 900": "x"}, SummaryUnknownField, "values"),  # a key that is no field id is not echoed
    ({"risk": "extreme"}, SummaryInvalidValue, "values.risk"),
    ({"risk": ["high"]}, SummaryInvalidValue, "values.risk"),
    ({"needs": ["food", "cars"]}, SummaryInvalidValue, "values.needs"),
    ({"needs": "food"}, SummaryInvalidValue, "values.needs"),
    ({"follow-up": "yes"}, SummaryInvalidValue, "values.follow-up"),
    ({"issues": ["debts"]}, SummaryInvalidValue, "values.issues"),  # the legal topic's, not crisis'
    ({"referral": "nobody"}, SummaryInvalidValue, "values.referral"),
    ({"note": 12345}, SummaryInvalidValue, "values.note"),
    ({"risk": None, "needs": ["food"]}, SummaryMissingField, "values.risk"),
    ({"note": "x" * 81}, SummaryTextTooLong, "values.note"),
    ({"note": "перезвонить +7 900 000-00-01"}, SummaryPersonalData, "values.note"),
    ({"note": "ivan@mail.ru"}, SummaryPersonalData, "values.note"),
    ({"note": "живёт ул. Ленина, 5"}, SummaryPersonalData, "values.note"),
    ({"note": "ur. 12.05.1990"}, SummaryPersonalData, "values.note"),
]


@pytest.mark.parametrize(("change", "error", "where"), REFUSALS)
def test_each_refusal_names_its_field_and_never_the_value(
    change: dict[str, Any], error: type[DomainError], where: str
) -> None:
    values = {"risk": "low", **change}
    with pytest.raises(error) as raised:
        check(form(), DOC, "crisis", values)
    assert type(raised.value) is error and raised.value.status == 422
    assert [d["where"] for d in raised.value.details] == [where]
    said = str(raised.value) + str(raised.value.details)
    assert not [v for v in change.values() if isinstance(v, str) and len(v) > 5 and v in said]


def test_text_is_refused_where_free_text_is_off() -> None:
    with pytest.raises(SummaryTextNotAllowed) as raised:
        check(form(free_text=False), DOC, "crisis", {"risk": "low", "note": "calmer"})
    assert raised.value.error_id == "summary_text_not_allowed"
    assert check(form(free_text=False), DOC, "crisis", {"risk": "low"}) == ({"risk": "low"}, {})


def test_issues_come_from_the_calls_topic() -> None:
    assert check(form(), DOC, "legal", {"risk": "low", "issues": ["debts"]})[0]["issues"] == ["debts"]
    for topic in (None, "loss"):  # no topic, or a topic without issues
        with pytest.raises(SummaryInvalidValue):
            check(form(), DOC, topic, {"risk": "low", "issues": ["panic"]})


def test_the_error_ids_are_distinct() -> None:
    ids = {error.error_id for _, error, _ in REFUSALS} | {SummaryTextNotAllowed.error_id}
    assert len(ids) == 6


# -- the service, with the database ---------------------------------------------------------------
@dataclass
class Live:
    document: IvrDocument
    version: int = 7


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def taken(**kw: Any) -> CallRecord:
    started = T0 - timedelta(minutes=10)
    return call(started, Outcome.ANSWERED, operator="op-anna", ended_at=started + timedelta(minutes=5), **kw)


def service(database: Engine, clock: Clock, document: IvrDocument = DOC) -> SummaryService:
    return SummaryService(RecordStore(database), SummaryStore(database), lambda: Live(document), clock)


def test_the_operator_saves_reads_and_replaces_their_calls_summary(database: Engine) -> None:
    record, clock = taken(), Clock()
    RecordStore(database).save(record)
    summaries = service(database, clock)
    saved = summaries.save(record.id, GOOD, "op-anna", senior=False)
    assert (saved.saved_by, saved.saved_at, saved.menu_version) == ("op-anna", T0, 7)
    assert summaries.get(record.id, "op-anna", senior=False) == saved
    clock.now += timedelta(minutes=5)
    again = summaries.save(record.id, {"risk": "low"}, "op-boris", senior=True)  # a senior corrects it
    assert summaries.get(record.id, "op-anna", senior=False) == again
    assert (again.fields, again.texts, again.saved_by) == ({"risk": "low"}, {}, "op-boris")
    with Session(database) as session:
        assert session.scalar(select(func.count()).select_from(CallSummaryRow)) == 1


def test_another_operators_call_is_forbidden_unknown_untaken_and_late_ones_refused(
    database: Engine,
) -> None:
    record, clock = taken(), Clock()
    untaken = call(T0, Outcome.ABANDONED_IN_QUEUE, ended_at=T0)
    RecordStore(database).save_many([record, untaken])
    summaries = service(database, clock)
    with pytest.raises(Forbidden):
        summaries.save(record.id, GOOD, "op-boris", senior=False)
    with pytest.raises(Forbidden):
        summaries.get(record.id, "op-boris", senior=False)
    with pytest.raises(CallNotFound):
        summaries.save("nobody", GOOD, "op-anna", senior=True)
    with pytest.raises(CallNotTaken):
        summaries.save(untaken.id, GOOD, "op-anna", senior=True)
    with pytest.raises(SummaryNotFound):
        summaries.get(record.id, "op-anna", senior=False)
    assert record.ended_at is not None
    clock.now = record.ended_at + timedelta(minutes=60)  # the form's window: the last moment
    summaries.save(record.id, GOOD, "op-anna", senior=False)
    clock.now += timedelta(seconds=1)
    for by, senior in (("op-anna", False), ("admin", True)):
        with pytest.raises(SummaryWindowClosed):
            summaries.save(record.id, GOOD, by, senior=senior)
    assert summaries.get(record.id, "op-anna", senior=False).saved_at == record.ended_at + timedelta(
        minutes=60
    )


def test_a_line_without_a_form_takes_an_empty_summary_only(database: Engine) -> None:
    record = taken()
    RecordStore(database).save(record)
    summaries = service(database, Clock(), DOC.model_copy(update={"summary": None}))
    with pytest.raises(SummaryUnknownField):
        summaries.save(record.id, {"risk": "low"}, "op-anna", senior=False)
    assert summaries.save(record.id, {}, "op-anna", senior=False).fields == {}


def test_retention_deletes_a_summary_with_its_record(database: Engine) -> None:
    old = taken()
    RecordStore(database).save(old)
    service(database, Clock()).save(old.id, GOOD, "op-anna", senior=False)
    Retention(database, timedelta(days=1), clock=lambda: T0 + timedelta(days=2)).run_once()
    assert SummaryStore(database).get(old.id) is None
    assert RecordStore(database).get(old.id) is None


def test_the_reads_that_count_see_enumerated_values_only(database: Engine) -> None:
    records = [taken(), taken(topic="legal", queue="legal"), taken()]
    RecordStore(database).save_many(records)
    summaries = service(database, Clock())
    summaries.save(records[0].id, GOOD, "op-anna", senior=False)
    summaries.save(records[1].id, {"risk": "medium", "issues": ["debts"]}, "op-anna", senior=False)
    store = SummaryStore(database)
    found = {s.record_id: s for s in store.enumerated(T0 - timedelta(hours=1), T0)}
    assert set(found) == {records[0].id, records[1].id}
    assert "note" not in found[records[0].id].fields and found[records[1].id].topic == "legal"
    assert [s.record_id for s in store.enumerated(T0 - timedelta(hours=1), T0, topics=["legal"])] == [
        records[1].id
    ]
    assert list(store.enumerated(T0, T0 + timedelta(hours=1))) == []
    assert sorted(store.taken_since(T0 - timedelta(hours=1)), key=lambda r: r[2]) == sorted(
        [(r.id, r.started_at, i < 2) for i, r in enumerate(records)], key=lambda r: r[2]
    )
    assert set(store.of([records[0].id, records[2].id])) == {records[0].id}
