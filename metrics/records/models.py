"""SQLAlchemy models of the metrics room. No column can hold a caller number."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.orm import Base


class CallRecordRow(Base):
    __tablename__ = "call_records"
    __table_args__ = (
        UniqueConstraint("node", "call_id", name="uq_call_records_node_call"),
        Index("ix_call_records_started_at", "started_at"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    node: Mapped[str] = mapped_column(String(40))
    call_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ivr_ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    queue_entered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    language: Mapped[str | None] = mapped_column(String(16))
    menu_version: Mapped[str | None] = mapped_column(String(40))
    path: Mapped[str] = mapped_column(String(200), default="")
    topic: Mapped[str | None] = mapped_column(String(40))
    queue: Mapped[str | None] = mapped_column(String(40))
    route_reason: Mapped[str | None] = mapped_column(String(20))
    fallback: Mapped[bool] = mapped_column(Boolean, default=False)
    outcome: Mapped[str] = mapped_column(String(24))
    wait_seconds: Mapped[float | None] = mapped_column(Float)
    talk_seconds: Mapped[float | None] = mapped_column(Float)
    operator: Mapped[str | None] = mapped_column(String(80))
    complete: Mapped[bool] = mapped_column(Boolean, default=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)
    after_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    referral: Mapped[str | None] = mapped_column(String(40))
    overflowed: Mapped[bool] = mapped_column(Boolean, default=False)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    survey_score: Mapped[int | None] = mapped_column(Integer)
    wrapup_seconds: Mapped[float | None] = mapped_column(Float)
    repeat_count: Mapped[int | None] = mapped_column(Integer)
    transferred: Mapped[str | None] = mapped_column(String(8))
    conferenced: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    switchboarded_from: Mapped[str | None] = mapped_column(String(40))


class CallIntervalRow(Base):
    """Interval statistics of every call ever saved (metrics/records/intervals.py): one row per UTC
    quarter-hour, node, topic and queue ('' when none), kept up to date by the record store in
    the transaction that saves the records. Counts only, never a call. The primary key leads
    with ``interval_start``: reports and exports read ranges of it."""

    __tablename__ = "call_intervals"

    interval_start: Mapped[datetime] = mapped_column(DateTime(timezone=True), primary_key=True)
    node: Mapped[str] = mapped_column(String(40), primary_key=True)
    topic: Mapped[str] = mapped_column(String(40), primary_key=True)
    queue: Mapped[str] = mapped_column(String(40), primary_key=True)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    offered: Mapped[int] = mapped_column(Integer, default=0)
    answered: Mapped[int] = mapped_column(Integer, default=0)
    abandoned_in_queue: Mapped[int] = mapped_column(Integer, default=0)
    abandoned_in_ivr: Mapped[int] = mapped_column(Integer, default=0)
    referred: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)
    after_hours: Mapped[int] = mapped_column(Integer, default=0)
    overflowed: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_sl: Mapped[int] = mapped_column(Integer, default=0)
    wait_seconds_sum: Mapped[float] = mapped_column(Float, default=0.0)
    talk_seconds_sum: Mapped[float] = mapped_column(Float, default=0.0)
    max_wait_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    # report figures (migration 0006)
    sl_seconds: Mapped[float | None] = mapped_column(Float)
    report_offered: Mapped[int] = mapped_column(Integer, default=0)
    answered_wait_sum: Mapped[float] = mapped_column(Float, default=0.0)
    handled: Mapped[int] = mapped_column(Integer, default=0)
    handle_seconds_sum: Mapped[float] = mapped_column(Float, default=0.0)
    longest_wait: Mapped[float | None] = mapped_column(Float)
    answered_within_5s: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_10s: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_15s: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_20s: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_25s: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_30s: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_45s: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_60s: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_90s: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_120s: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_180s: Mapped[int] = mapped_column(Integer, default=0)
    answered_within_300s: Mapped[int] = mapped_column(Integer, default=0)
    short_abandoned_2s: Mapped[int] = mapped_column(Integer, default=0)
    short_abandoned_3s: Mapped[int] = mapped_column(Integer, default=0)
    short_abandoned_5s: Mapped[int] = mapped_column(Integer, default=0)
    short_abandoned_10s: Mapped[int] = mapped_column(Integer, default=0)
    short_abandoned_15s: Mapped[int] = mapped_column(Integer, default=0)
    short_abandoned_20s: Mapped[int] = mapped_column(Integer, default=0)
    short_abandoned_30s: Mapped[int] = mapped_column(Integer, default=0)


class CallRetentionRow(Base):
    """The one row (id 1) that says which quarter-hours retention has retired: records that
    started before ``cutoff`` are deleted (their cells stay) and the store refuses them. Both
    lock this row first, so a record cannot be saved into a quarter-hour while it is retired."""

    __tablename__ = "call_retention"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    cutoff: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CallSummaryRow(Base):
    """The after-call summary of a call (metrics/records/summary.py): one per record, deleted
    with it. ``fields`` holds the enumerated values (choices, flags, issues, the referral
    given), the only part reports and exports count; ``texts`` holds free text (refused
    unless the form turns it on; checked for personal data), which nothing counts."""

    __tablename__ = "call_summaries"

    record_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("call_records.id", ondelete="CASCADE"), primary_key=True
    )
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    texts: Mapped[dict[str, Any]] = mapped_column(JSON)
    saved_by: Mapped[str] = mapped_column(String(80))  # the operator's pseudonym, or "admin"
    saved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    menu_version: Mapped[int] = mapped_column(Integer)  # the IVR version whose form it follows
