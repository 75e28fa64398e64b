"""The after-call summary (issue 16, item 4): what an operator notes about a call, without
personal data, in the form the IVR document defines (ivr/desk.py ``SummaryForm``).

Who: the operator who took the call (the record's ``operator``), or a senior, shift lead or
admin. When: until ``window_minutes`` after the call ended (saving again replaces it). Against
what: the form of the IVR version live when it is saved (the form the operator's page shows),
whose number the summary keeps; a line without a form takes an empty summary only. Values are
enumerated: a choice or several of the field's values, yes or no, issues of the call's topic
(its guidance's ``issues``), a referral of the document. Free text is refused unless the form
turns it on, and then refused when longer than ``text_max`` or when it looks like it holds a
phone number, an e-mail address, a long run of digits or an address (privacy/text.py).

The first problem found is the answer (422, its error_id, the field named in ``details``);
no error and no log line ever holds a value.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Final, Protocol

from agents.exceptions import Forbidden
from ivr.desk import SummaryField, SummaryForm
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
from metrics.records.record import CallRecord
from metrics.records.store import RecordStore
from metrics.records.summary_store import Summary, SummaryStore, Value
from privacy.text import personal_data

_SLUG: Final = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
NO_FORM: Final = SummaryForm()  # a document without a form: no fields, the default window


class LiveDocument(Protocol):
    """The live IVR version (ivr/engine.py ``Engine``)."""

    @property
    def version(self) -> int: ...

    @property
    def document(self) -> IvrDocument: ...


def _now() -> datetime:
    return datetime.now(UTC)


class SummaryService:
    """``live`` gives the live IVR version (raises ivr's IvrError before there is one)."""

    def __init__(
        self,
        records: RecordStore,
        summaries: SummaryStore,
        live: Callable[[], LiveDocument],
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._records = records
        self._summaries = summaries
        self._live = live
        self._clock = clock

    def get(self, record_id: str, by: str, senior: bool) -> Summary:
        """``by``: who asks (an operator's pseudonym); ``senior``: whether they may read any call's."""
        _may_write(self._record(record_id), by, senior)
        summary = self._summaries.get(record_id)
        if summary is None:
            raise SummaryNotFound(f"call {record_id} has no summary yet")
        return summary

    def save(self, record_id: str, values: Mapping[str, object], by: str, senior: bool) -> Summary:
        record = self._record(record_id)
        _may_write(record, by, senior)
        live = self._live()
        form = live.document.summary or NO_FORM
        now = self._clock()
        ended = record.ended_at or record.started_at
        if now > ended + timedelta(minutes=form.window_minutes):
            raise SummaryWindowClosed(
                f"a summary may be saved until {form.window_minutes} min after the call ended"
            )
        fields, texts = check(form, live.document, record.topic, values)
        summary = Summary(record.id, fields, by, now, live.version, texts)
        self._summaries.put(summary)
        return summary

    def _record(self, record_id: str) -> CallRecord:
        record = self._records.get(record_id)
        if record is None:
            raise CallNotFound(f"no call record {record_id}")
        return record


def _may_write(record: CallRecord, by: str, senior: bool) -> None:
    if not senior and record.operator != by:
        raise Forbidden("only the operator who took the call, a senior or a shift lead may summarise it")
    if record.operator is None:
        raise CallNotTaken("no operator took this call")


def check(
    form: SummaryForm, document: IvrDocument, topic: str | None, values: Mapping[str, object]
) -> tuple[dict[str, Value], dict[str, str]]:
    """The summary's enumerated values and its texts, as they will be kept; raises the first
    problem: an unknown field, a value not of the field, a missing required field, text
    where free text is off, too long or with personal data. None or an empty list or text
    leaves a field out."""
    by_id = {f.id: f for f in form.fields}
    for name in values:
        if name not in by_id:
            shown = f"values.{name}" if _SLUG.match(name) else "values"
            raise SummaryUnknownField(shown, "the summary form has no such field")
    fields: dict[str, Value] = {}
    texts: dict[str, str] = {}
    for spec in form.fields:
        value = values.get(spec.id)
        if value is None or value == [] or (isinstance(value, str) and not value.strip()):
            if spec.required and (spec.kind != "text" or form.free_text):
                raise SummaryMissingField(f"values.{spec.id}", "this field is required")
            continue
        if spec.kind == "text":
            texts[spec.id] = _text(form, spec, value)
        else:
            fields[spec.id] = _enumerated(spec, document, topic, value)
    return fields, texts


def _enumerated(spec: SummaryField, document: IvrDocument, topic: str | None, value: object) -> Value:
    where = f"values.{spec.id}"
    if spec.kind == "flag":
        if not isinstance(value, bool):
            raise SummaryInvalidValue(where, "must be true or false")
        return value
    allowed = _allowed(spec, document, topic)
    if spec.kind in ("choice", "referral"):
        if not isinstance(value, str) or value not in allowed:
            raise SummaryInvalidValue(where, f"must be one of {_listed(allowed, spec.kind)}")
        return value
    if not isinstance(value, list) or not all(isinstance(v, str) and v in allowed for v in value):
        raise SummaryInvalidValue(where, f"must be a list of {_listed(allowed, spec.kind)}")
    return list(dict.fromkeys(value))  # each once, in the order given


def _allowed(spec: SummaryField, document: IvrDocument, topic: str | None) -> list[str]:
    if spec.kind == "referral":
        return [r.id for r in document.referrals]
    if spec.kind == "issues":
        found = document.topic(topic) if topic else None
        return list(found.guidance.issues) if found and found.guidance else []
    return list(spec.values)


def _listed(allowed: list[str], kind: str) -> str:
    if not allowed:
        return "nothing: this call's topic lists no issues" if kind == "issues" else "nothing"
    return ", ".join(allowed)


def _text(form: SummaryForm, spec: SummaryField, value: object) -> str:
    where = f"values.{spec.id}"
    if not form.free_text:
        raise SummaryTextNotAllowed(where, "free text is off on this line: choose from the form's values")
    if not isinstance(value, str):
        raise SummaryInvalidValue(where, "must be text")
    text = value.strip()
    if len(text) > form.text_max:
        raise SummaryTextTooLong(where, f"at most {form.text_max} characters")
    found = personal_data(text)
    if found is not None:
        raise SummaryPersonalData(where, f"looks like it holds {found.value}: describe the call without it")
    return text
