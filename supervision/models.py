"""SQLAlchemy models of supervision: every session (who supervised whom, from when to when, how it
ended) and every mode it was in, with when and how the mode was chosen. Names are pseudonyms;
the supervised call is its record's ``call_id``, never a number."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.orm import Base


class SupervisionRow(Base):
    __tablename__ = "supervision_sessions"
    __table_args__ = (
        Index("ix_supervision_sessions_started_at", "started_at"),
        Index("ix_supervision_sessions_operator", "operator"),
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    operator: Mapped[str] = mapped_column(String(40))  # who was supervised
    supervisor: Mapped[str] = mapped_column(String(40))  # a senior, shift lead or admin (their softphone)
    origin: Mapped[str] = mapped_column(String(8))  # api, code (a feature code on their softphone)
    node: Mapped[str] = mapped_column(String(40))
    call_id: Mapped[str] = mapped_column(String(64))  # the supervised call's record id (its linkedid)
    mode: Mapped[str] = mapped_column(String(8))  # the last mode: listen, whisper, barge
    state: Mapped[str] = mapped_column(String(8))  # ringing, active, ended
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_how: Mapped[str | None] = mapped_column(String(16))  # ended, hung_up, call_ended, not_answered
    ended_by: Mapped[str | None] = mapped_column(String(80))  # who ended it through the API


class SupervisionModeRow(Base):
    __tablename__ = "supervision_modes"
    __table_args__ = (Index("ix_supervision_modes_session", "session_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(String(32), ForeignKey("supervision_sessions.id"))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    mode: Mapped[str] = mapped_column(String(8))
    via: Mapped[str] = mapped_column(String(8))  # api, keys (the supervisor's phone), code
    by: Mapped[str] = mapped_column(String(80))  # who chose it
