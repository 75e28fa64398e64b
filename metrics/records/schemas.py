"""Pydantic I/O models of the metrics room."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from metrics.records.record import CallRecord


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

    @classmethod
    def of(cls, record: CallRecord) -> CallRecordPublic:
        return cls.model_validate(record, from_attributes=True)
