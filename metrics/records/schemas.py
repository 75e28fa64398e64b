"""Pydantic I/O models of the metrics room."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from metrics.records.record import CallRecord
from metrics.records.summary_store import Summary, Value


class SummaryIn(BaseModel):
    """An after-call summary: each field's value by its id, as the form of the live IVR
    version defines them (a choice: "high"; several: ["a", "b"]; a flag: true; text where the
    form turns free text on). A field left out, null, "" or [] is not given."""

    model_config = ConfigDict(extra="forbid")

    values: dict[str, JsonValue] = Field(max_length=60)


class SummaryPublic(BaseModel):
    values: dict[str, Value]  # enumerated values and texts, by field id
    saved_by: str
    saved_at: datetime
    menu_version: int  # the IVR version whose form it follows

    @classmethod
    def of(cls, summary: Summary) -> SummaryPublic:
        return cls(
            values={**summary.fields, **summary.texts},
            saved_by=summary.saved_by,
            saved_at=summary.saved_at,
            menu_version=summary.menu_version,
        )


class CallRecordPublic(BaseModel):
    id: str
    node: str
    started_at: datetime
    ivr_ended_at: datetime | None
    queue_entered_at: datetime | None
    answered_at: datetime | None
    ended_at: datetime | None
    language: str | None
    menu_version: str | None
    path: str
    topic: str | None
    queue: str | None
    route_reason: str | None
    fallback: bool
    outcome: str
    wait_seconds: float | None
    talk_seconds: float | None
    operator: str | None
    complete: bool
    priority: int
    after_hours: bool
    referral: str | None
    overflowed: bool
    escalated: bool
    survey_score: int | None
    wrapup_seconds: float | None
    repeat_count: int | None
    transferred: str | None = None  # "warm" or "blind": an operator handed the caller on
    conferenced: bool = False  # a partner line or interpreter was brought into the call
    emergency: bool = False  # the emergency line was brought into the call
    switchboarded_from: str | None = None  # a shift lead's redirect sent the caller on from this queue
    summary: SummaryPublic | None = None  # the operator's after-call summary, once saved

    @classmethod
    def of(cls, record: CallRecord, summary: Summary | None = None) -> CallRecordPublic:
        public = cls.model_validate(record, from_attributes=True)
        if summary is not None:
            public.summary = SummaryPublic.of(summary)
        return public
