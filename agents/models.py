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
    # Signing in (agents/accounts.py): an argon2id hash; a TOTP secret once confirmed, and the
    # last step used (a code works once); failures in a row and the lockout they caused.
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    totp_last_step: Mapped[int] = mapped_column(Integer, default=-1)
    failed_signins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # The pages' language for this person (ru, pl, en); None: the browser's.
    language: Mapped[str | None] = mapped_column(String(8), nullable=True)


class SessionRow(Base):
    """A signed-in page (or a kiosk wallboard): found by the sha256 of its cookie, never the
    cookie itself. A kiosk is issued by an admin with a one-time pairing code (also hashed) and
    reads only the wallboard."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # sha256 of the cookie's secret
    public_id: Mapped[str] = mapped_column(String(16), unique=True)  # what lists and revocations name
    account: Mapped[str] = mapped_column(String(40), index=True)  # the person; for a kiosk, who issued it
    kind: Mapped[str] = mapped_column(String(10))  # page | kiosk
    label: Mapped[str | None] = mapped_column(String(80), nullable=True)  # a kiosk's name
    csrf: Mapped[str] = mapped_column(String(64))  # sent back in X-CSRF-Token on every change
    pair_hash: Mapped[str | None] = mapped_column(
        String(64), nullable=True, index=True
    )  # a kiosk not yet paired
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))  # the absolute timeout
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


class ApiTokenRow(Base):
    """A machine's token: named, scoped, with an expiry; stored as its sha256, shown once."""

    __tablename__ = "api_tokens"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # the token's public part
    name: Mapped[str] = mapped_column(String(80))
    scopes: Mapped[str] = mapped_column(Text)  # JSON list, e.g. ["records:read", "ivr:write"]
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


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
