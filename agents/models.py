"""SQLAlchemy models of the agents room. Operators are pseudonymous: no private numbers, no
real names required; credentials are stored only as hashes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.orm import Base


class OperatorRow(Base):
    __tablename__ = "operators"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)  # pseudonym, the SIP username
    display_name: Mapped[str] = mapped_column(String(80))
    role: Mapped[str] = mapped_column(String(20))
    skills: Mapped[str] = mapped_column(Text)  # JSON: {topic: level 1..3}
    sip_md5: Mapped[str] = mapped_column(String(32))  # md5("id:realm:password"), what PJSIP needs
    token_hash: Mapped[str] = mapped_column(String(64), index=True)  # sha256 of the operator's API token
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PauseRow(Base):
    """Every pause an operator took, whoever started it (the operator, a shift lead, the
    burnout guard), and why."""

    __tablename__ = "operator_pauses"
    __table_args__ = (Index("ix_operator_pauses_started_at", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operator: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(16))  # operator | shift_lead | guard
    rule: Mapped[str | None] = mapped_column(String(40))  # the guard's rule, when it paused
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DebriefRow(Base):
    """An operator's request for a debrief after a heavy call (agents/debriefs.py): the call it
    is about (its record id, never a number), a short note screened for personal data, and how
    a shift lead started and closed it."""

    __tablename__ = "debrief_requests"
    __table_args__ = (Index("ix_debrief_requests_requested_at", "requested_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    operator: Mapped[str] = mapped_column(String(40), index=True)
    record_id: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(200))
    suggested: Mapped[bool] = mapped_column(Boolean, default=False)  # the burnout guard suggested it
    requested_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    started_by: Mapped[str | None] = mapped_column(String(80))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)  # its start paused the operator (debrief)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str | None] = mapped_column(String(200))
