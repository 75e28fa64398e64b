"""API tokens for machines: named, scoped, with an expiry, revocable, shown once, stored as the
sha256 of their secret.

A token reads ``hlt_<id>_<secret>``: the id finds the row (and names the token in lists, the
audit log and revocations); the secret is compared by its hash. A scope is an area of the API
and a verb: ``records:read`` admits the GET routes of the call records, ``ivr:write`` the
changes of the IVR. Which area a route is in is decided where the routes are listed
(hotline/routes.py).
"""

from __future__ import annotations

import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session

from agents.exceptions import UnknownToken
from agents.models import ApiTokenRow
from agents.passwords import digest
from core.orm import stored_utc

AREAS = (
    "operators",  # accounts, presence, live state
    "desk",  # the call in front of an operator, and acting on it
    "supervision",  # listen, whisper, barge
    "records",  # call records, exports, call summaries
    "ivr",  # menus: drafts, validation, publishing, prompts, referrals
    "planning",  # forecasts, staffing, rosters
    "reports",  # historical reports
    "wallboard",  # the live board and its stream, the lead's actions on it
    "switchboard",  # a queue's new callers sent elsewhere for a while
    "audit",  # the audit log
    "accounts",  # tokens and kiosks themselves
    "metrics",  # /metrics for Prometheus
    "staff",  # write: make, change or reset admins and shift leads (beside operators:write); grant with care
)
SCOPES = tuple(f"{area}:{verb}" for area in AREAS for verb in ("read", "write"))
PREFIX = "hlt_"
_SHAPE = re.compile(r"^hlt_([0-9a-f]{16})_([A-Za-z0-9_-]{20,64})$")
USE_EVERY = timedelta(minutes=1)  # used_at is written at most this often


@dataclass(frozen=True)
class Token:
    id: str
    name: str
    scopes: tuple[str, ...]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    used_at: datetime | None


def scope_of(area: str, method: str) -> str:
    return f"{area}:{'read' if method in ('GET', 'HEAD', 'OPTIONS') else 'write'}"


class Tokens:
    def __init__(self, engine: Engine, clock: Callable[[], datetime] | None = None) -> None:
        self._engine = engine
        self._now = clock or (lambda: datetime.now(UTC))

    def create(self, name: str, scopes: list[str], days: int | None, created_by: str) -> tuple[str, Token]:
        """The token (shown once) and what it is."""
        unknown = sorted(set(scopes) - set(SCOPES))
        if unknown or not scopes:
            raise ValueError(f"unknown scopes {unknown}" if unknown else "a token needs at least one scope")
        now, token_id, secret = self._now(), secrets.token_hex(8), secrets.token_urlsafe(32)
        row = ApiTokenRow(
            id=token_id,
            name=name,
            scopes=json.dumps(sorted(set(scopes))),
            secret_hash=digest(secret),
            created_by=created_by,
            created_at=now,
            expires_at=now + timedelta(days=days) if days else None,
        )
        with Session(self._engine) as session, session.begin():
            session.add(row)
            return f"{PREFIX}{token_id}_{secret}", _token(row)

    def find(self, token: str) -> Token | None:
        """The token in force that this is, or None (unknown, wrong secret, revoked, expired)."""
        shape = _SHAPE.match(token)
        if shape is None:
            return None
        token_id, secret = shape.groups()
        now = self._now()
        with Session(self._engine) as session:
            row = session.get(ApiTokenRow, token_id)
            if row is None or not hmac.compare_digest(row.secret_hash, digest(secret)):
                return None
            found = _token(row)
            if found.revoked_at is not None or (found.expires_at is not None and found.expires_at <= now):
                return None
            if found.used_at is None or now - found.used_at >= USE_EVERY:
                session.execute(update(ApiTokenRow).where(ApiTokenRow.id == token_id).values(used_at=now))
                session.commit()
            return found

    def all(self) -> list[Token]:
        with Session(self._engine) as session:
            return [_token(r) for r in session.scalars(select(ApiTokenRow).order_by(ApiTokenRow.created_at))]

    def revoke(self, token_id: str) -> Token:
        with Session(self._engine) as session, session.begin():
            row = session.get(ApiTokenRow, token_id)
            if row is None:
                raise UnknownToken(f"no token '{token_id}'")
            if row.revoked_at is None:
                row.revoked_at = self._now()
            return _token(row)


def _token(row: ApiTokenRow) -> Token:
    return Token(
        row.id,
        row.name,
        tuple(json.loads(row.scopes)),
        row.created_by,
        stored_utc(row.created_at),
        stored_utc(row.expires_at),
        stored_utc(row.revoked_at),
        stored_utc(row.used_at),
    )
