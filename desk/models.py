"""SQLAlchemy models of the desk room: every use of call control (desk/control.py), with who
asked and when. Targets are queue names and referral ids, never a number."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.orm import Base


class DeskActionRow(Base):
    __tablename__ = "desk_actions"
    __table_args__ = (Index("ix_desk_actions_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(16))  # transfer_warm, transfer_blind, conference, ...
    operator: Mapped[str] = mapped_column(String(40))  # whose call
    by: Mapped[str] = mapped_column(String(80))  # who asked: the operator, a senior, a lead, "admin"
    node: Mapped[str] = mapped_column(String(40))
    call_id: Mapped[str] = mapped_column(String(64))  # the call's linkedid (its record's call_id)
    queue: Mapped[str] = mapped_column(String(40))
    topic: Mapped[str | None] = mapped_column(String(40))
    target_kind: Mapped[str | None] = mapped_column(String(16))  # queue, referral, emergency
    target: Mapped[str | None] = mapped_column(String(40))  # the queue's name or the referral's id
