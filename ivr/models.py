"""SQLAlchemy models of the IVR room: published versions (immutable), the draft, activations."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.orm import Base


class IvrVersionRow(Base):
    """A published document: never changed once written."""

    __tablename__ = "ivr_versions"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    document: Mapped[str] = mapped_column(Text)  # JSON
    prompt_paths: Mapped[str] = mapped_column(Text)  # JSON: [[prompt, language, path], ...]
    checksum: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    author: Mapped[str] = mapped_column(String(80))
    note: Mapped[str] = mapped_column(String(500), default="")
    yaml_text: Mapped[str | None] = mapped_column(Text)  # as the admin wrote it; None: render it


class IvrActivationRow(Base):
    """Which version is live, as a log: the newest row wins (publish and rollback append)."""

    __tablename__ = "ivr_activations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer, ForeignKey("ivr_versions.number"))
    activated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    action: Mapped[str] = mapped_column(String(20))
    author: Mapped[str] = mapped_column(String(80))


class IvrDraftRow(Base):
    """The one working copy administrators edit; may be invalid until published."""

    __tablename__ = "ivr_draft"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    document: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    based_on: Mapped[int | None] = mapped_column(Integer)
    yaml_text: Mapped[str | None] = mapped_column(Text)  # as the admin wrote it; None: render it


class SwitchboardRow(Base):
    """A shift lead's redirect of a queue's new callers (ivr/switchboard.py): who, from where to
    where, when it started and was planned to end, and when and by whom it really ended (an end
    without ``ended_by`` is the planned one: it expired)."""

    __tablename__ = "switchboard"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    queue: Mapped[str] = mapped_column(String(40), index=True)
    target_queue: Mapped[str | None] = mapped_column(String(40))
    target_referral: Mapped[str | None] = mapped_column(String(40))
    started_by: Mapped[str] = mapped_column(String(80))
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    planned_end: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    ended_by: Mapped[str | None] = mapped_column(String(80))
