"""Pydantic I/O models of the metrics room."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from metrics.records import CallRecord


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

    @classmethod
    def of(cls, record: CallRecord) -> CallRecordPublic:
        return cls(
            id=record.id,
            node=record.node,
            started_at=record.started_at,
            ivr_ended_at=record.ivr_ended_at,
            queue_entered_at=record.queue_entered_at,
            answered_at=record.answered_at,
            ended_at=record.ended_at,
            language=record.language,
            menu_version=record.menu_version,
            path=record.path,
            topic=record.topic,
            queue=record.queue,
            route_reason=record.route_reason,
            fallback=record.fallback,
            outcome=record.outcome.value,
            wait_seconds=record.wait_seconds,
            talk_seconds=record.talk_seconds,
            operator=record.operator,
            complete=record.complete,
            priority=record.priority,
            after_hours=record.after_hours,
            referral=record.referral,
            overflowed=record.overflowed,
        )
