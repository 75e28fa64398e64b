"""SQLAlchemy models of the wallboard room: every action a shift lead took from the wallboard
(wallboard/actions.py), with who, what, whom, when and the result. Operators are pseudonyms,
queues and alerts are names: nothing of a caller."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from core.orm import Base


class WallboardActionRow(Base):
    __tablename__ = "wallboard_actions"
    __table_args__ = (Index("ix_wallboard_actions_at", "at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    by: Mapped[str] = mapped_column(String(80))  # the shift lead's pseudonym, or "admin"
    action: Mapped[str] = mapped_column(String(24))  # pause, resume, logout, queue_add, ...
    operator: Mapped[str | None] = mapped_column(String(40))  # whom
    target: Mapped[str | None] = mapped_column(String(80))  # a reason, a queue, an alert, a debrief
    result: Mapped[str] = mapped_column(String(40))  # "ok" or the error_id it failed with
