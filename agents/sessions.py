"""Sessions: a signed-in page, or a kiosk wallboard on a TV.

The browser holds a random secret in an HttpOnly, Secure, SameSite=Strict cookie; the database
holds only its sha256. A page's session ends after ``idle_minutes`` without a request, after
``absolute_hours`` in all, at sign-out, and at once when its person is deactivated or their
credentials reset (every read joins the person's row). Each session has a CSRF token that every
state-changing request sends back in ``X-CSRF-Token``.

A kiosk is issued by an admin: a one-time pairing code (valid ``PAIRING_MINUTES``) that a TV
trades for a long-lived cookie that reads the wallboard and nothing else.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, delete, or_, select, update
from sqlalchemy.orm import Session

from agents.directory import Role
from agents.exceptions import PairingFailed, UnknownKiosk
from agents.models import OperatorRow, SessionRow
from agents.passwords import digest
from core.orm import stored_utc
from core.settings import AccountSettings

PAGE, KIOSK = "page", "kiosk"
PAIRING_MINUTES = 15
TOUCH_EVERY = timedelta(seconds=30)  # seen_at is written at most this often per session


@dataclass(frozen=True)
class Found:
    public_id: str
    kind: str
    account: str  # the person; for a kiosk, the admin who issued it
    role: Role  # the person's role now; for a kiosk, SHIFT_LEAD (it reads the wallboard)
    label: str | None
    csrf: str
    expires_at: datetime
    must_enrol: bool = False  # the line requires a second factor of this person, not yet set up
    idle_until: datetime | None = None  # a page's: when it ends without another request


@dataclass(frozen=True)
class Kiosk:
    id: str
    label: str
    issued_by: str
    created_at: datetime
    paired: bool
    expires_at: datetime
    seen_at: datetime


class Sessions:
    def __init__(
        self, engine: Engine, settings: AccountSettings, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._engine, self._settings = engine, settings
        self._now = clock or (lambda: datetime.now(UTC))

    def open(self, account: str) -> tuple[str, Found]:
        """A page's new session: the cookie's secret (never stored), and what it admits."""
        now, secret = self._now(), secrets.token_urlsafe(32)
        row = SessionRow(
            id=digest(secret),
            public_id=secrets.token_hex(8),
            account=account,
            kind=PAGE,
            csrf=secrets.token_urlsafe(24),
            created_at=now,
            seen_at=now,
            expires_at=now + timedelta(hours=self._settings.absolute_hours),
        )
        with Session(self._engine) as session, session.begin():
            self._forget_old(session, now)
            session.add(row)
            person = session.get(OperatorRow, account)
            role = Role(person.role) if person else Role.OPERATOR
            idle = now + timedelta(minutes=self._settings.idle_minutes)
            return secret, _found(row, role, self._must_enrol(person), idle)

    def find(self, secret: str) -> Found | None:
        """What this cookie admits now, or None (unknown, ended, expired, idle too long, its
        person deactivated)."""
        now = self._now()
        with Session(self._engine) as session:
            row = session.get(SessionRow, digest(secret))
            if row is None or row.ended_at is not None or row.pair_hash is not None:
                return None
            if stored_utc(row.expires_at) <= now:
                return None
            if row.kind == KIOSK:  # its seen_at says when the TV last read: a dead one shows
                found = _found(row, Role.SHIFT_LEAD)
            else:
                if stored_utc(row.seen_at) + timedelta(minutes=self._settings.idle_minutes) <= now:
                    return None
                person = session.get(OperatorRow, row.account)
                if person is None or not person.active:
                    return None
                idle = now + timedelta(minutes=self._settings.idle_minutes)
                found = _found(row, Role(person.role), self._must_enrol(person), idle)
            if now - stored_utc(row.seen_at) >= TOUCH_EVERY:
                session.execute(update(SessionRow).where(SessionRow.id == row.id).values(seen_at=now))
                session.commit()
            return found

    def _must_enrol(self, person: OperatorRow | None) -> bool:
        if person is None or person.role not in self._settings.totp_roles:
            return False
        return not (person.totp_confirmed and person.totp_secret)

    def end(self, secret: str) -> None:
        """Sign-out."""
        with Session(self._engine) as session, session.begin():
            session.execute(
                update(SessionRow)
                .where(SessionRow.id == digest(secret), SessionRow.ended_at.is_(None))
                .values(ended_at=self._now())
            )

    def end_all(self, account: str, keep: str | None = None) -> int:
        """Every page session of this person (deactivated, credentials reset, password changed);
        ``keep``: the secret of the one session that changed its own password."""
        query = update(SessionRow).where(
            SessionRow.account == account, SessionRow.kind == PAGE, SessionRow.ended_at.is_(None)
        )
        if keep is not None:
            query = query.where(SessionRow.id != digest(keep))
        with Session(self._engine) as session, session.begin():
            return int(session.execute(query.values(ended_at=self._now())).rowcount or 0)  # type: ignore[attr-defined]

    # --- kiosks ---------------------------------------------------------------------------

    def issue_kiosk(self, label: str, issued_by: str) -> tuple[str, Kiosk]:
        """A pairing code (shown once) and the kiosk it will become."""
        now, code = self._now(), secrets.token_urlsafe(18)
        row = SessionRow(
            id=digest(secrets.token_urlsafe(32)),  # replaced at pairing; nobody holds this one
            public_id=secrets.token_hex(8),
            account=issued_by,
            kind=KIOSK,
            label=label,
            csrf=secrets.token_urlsafe(24),
            pair_hash=digest(code),
            created_at=now,
            seen_at=now,
            expires_at=now + timedelta(minutes=PAIRING_MINUTES),
        )
        with Session(self._engine) as session, session.begin():
            session.add(row)
            return code, _kiosk(row)

    def pair(self, code: str) -> tuple[str, Found]:
        """The TV's cookie secret for this pairing code; the code works once."""
        now, secret = self._now(), secrets.token_urlsafe(32)
        with Session(self._engine) as session, session.begin():
            row = session.scalars(select(SessionRow).where(SessionRow.pair_hash == digest(code))).first()
            if row is None or row.ended_at is not None or stored_utc(row.expires_at) <= now:
                raise PairingFailed(
                    "this pairing code is unknown, used or expired: ask an admin for a new one"
                )
            row.id, row.pair_hash, row.seen_at = digest(secret), None, now
            row.expires_at = now + timedelta(days=self._settings.kiosk_days)
            return secret, _found(row, Role.SHIFT_LEAD)

    def kiosks(self) -> list[Kiosk]:
        now = self._now()
        query = select(SessionRow).where(SessionRow.kind == KIOSK, SessionRow.ended_at.is_(None))
        with Session(self._engine) as session:
            rows = [
                r
                for r in session.scalars(query.order_by(SessionRow.created_at))
                if stored_utc(r.expires_at) > now
            ]
            return [_kiosk(r) for r in rows]

    def revoke_kiosk(self, kiosk_id: str) -> None:
        with Session(self._engine) as session, session.begin():
            done = session.execute(
                update(SessionRow)
                .where(
                    SessionRow.public_id == kiosk_id, SessionRow.kind == KIOSK, SessionRow.ended_at.is_(None)
                )
                .values(ended_at=self._now())
            )
            if not done.rowcount:  # type: ignore[attr-defined]
                raise UnknownKiosk(f"no kiosk '{kiosk_id}' is in use")

    def _forget_old(self, session: Session, now: datetime) -> None:
        """Sessions and kiosks (anyone's) that ended or expired more than a day ago are deleted,
        at each sign-in: the table holds what is in use and the last day's."""
        day_ago = now - timedelta(days=1)
        session.execute(
            delete(SessionRow).where(or_(SessionRow.ended_at < day_ago, SessionRow.expires_at < day_ago))
        )


def _found(
    row: SessionRow, role: Role, must_enrol: bool = False, idle_until: datetime | None = None
) -> Found:
    expires = stored_utc(row.expires_at)
    return Found(
        row.public_id, row.kind, row.account, role, row.label, row.csrf, expires, must_enrol, idle_until
    )


def _kiosk(row: SessionRow) -> Kiosk:
    return Kiosk(
        row.public_id,
        row.label or "",
        row.account,
        stored_utc(row.created_at),
        row.pair_hash is None,
        stored_utc(row.expires_at),
        stored_utc(row.seen_at),
    )
