"""The operator directory: pseudonymous accounts, roles, skills, credentials.

A new account's SIP password and API token are returned once and stored only as hashes: the
SIP password as PJSIP's md5 credential (md5 of ``user:realm:password``), the token as sha256.
Skills are topics with a level (1 beginner .. 3 experienced); they decide the queues an operator
joins on login and the penalty there (experienced operators are offered calls first).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from agents import passwords
from agents.exceptions import OperatorExists, UnknownOperator
from agents.models import OperatorRow
from ivr.document import IvrDocument

SIP_REALM = "hotline"
_ID = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")


class Role(StrEnum):
    OPERATOR = "operator"
    SENIOR = "senior"
    SHIFT_LEAD = "shift_lead"
    ADMIN = "admin"


@dataclass(frozen=True)
class Operator:
    id: str
    display_name: str
    role: Role
    skills: dict[str, int]
    active: bool
    sip_md5: str

    @property
    def interface(self) -> str:
        """The queue member interface: the operator's softphone endpoint."""
        return f"PJSIP/{self.id}"


@dataclass(frozen=True)
class Credentials:
    """Shown once, at creation or reset; never stored in clear."""

    sip_username: str
    sip_password: str
    api_token: str  # the person's own API token
    password: str  # a one-time sign-in password: the person sets their own after signing in


@dataclass(frozen=True)
class Membership:
    queue: str
    penalty: int


def sip_md5(username: str, password: str) -> str:
    return hashlib.md5(f"{username}:{SIP_REALM}:{password}".encode(), usedforsecurity=False).hexdigest()


def _operator(row: OperatorRow) -> Operator:
    return Operator(row.id, row.display_name, Role(row.role), json.loads(row.skills), row.active, row.sip_md5)


def memberships(operator: Operator, doc: IvrDocument) -> list[Membership]:
    """Queues the operator's skills cover; seniors also serve the senior queue if there is one."""
    penalty: dict[str, int] = {}
    for topic in doc.topics:
        level = operator.skills.get(topic.id)
        if level:
            queue_penalty = 3 - max(1, min(level, 3))
            penalty[topic.queue] = min(penalty.get(topic.queue, 9), queue_penalty)
    if operator.role in (Role.SENIOR, Role.SHIFT_LEAD) and "senior" in doc.queue_names():
        penalty["senior"] = 0
    if operator.skills and doc.fallback_queue not in penalty:
        penalty[doc.fallback_queue] = 2
    return [Membership(q, p) for q, p in sorted(penalty.items())]


class OperatorDirectory:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def create(self, operator_id: str, display_name: str, role: Role, skills: dict[str, int]) -> Credentials:
        if not _ID.match(operator_id):
            raise ValueError(f"operator id {operator_id!r}: lowercase letters, digits, '-' or '_'")
        credentials = _new_credentials(operator_id)
        password_hash = passwords.hash_password(credentials.password)
        with Session(self._engine) as session, session.begin():
            if session.get(OperatorRow, operator_id) is not None:
                raise OperatorExists(f"operator '{operator_id}' exists already")
            session.add(
                OperatorRow(
                    id=operator_id,
                    display_name=display_name,
                    role=role.value,
                    skills=json.dumps(skills, sort_keys=True),
                    sip_md5=sip_md5(operator_id, credentials.sip_password),
                    token_hash=passwords.digest(credentials.api_token),
                    active=True,
                    created_at=datetime.now(UTC),
                    password_hash=password_hash,
                )
            )
        return credentials

    def reset_credentials(self, operator_id: str) -> Credentials:
        """New secrets, all at once (a softphone or a password leaked, a person forgot): the
        lockout is lifted; the second factor stays (Accounts.reset_second_factor)."""
        credentials = _new_credentials(operator_id)
        password_hash = passwords.hash_password(credentials.password)
        with Session(self._engine) as session, session.begin():
            row = self._row(session, operator_id)
            row.sip_md5 = sip_md5(operator_id, credentials.sip_password)
            row.token_hash = passwords.digest(credentials.api_token)
            row.password_hash, row.failed_signins, row.locked_until = password_hash, 0, None
        return credentials

    def update(
        self,
        operator_id: str,
        display_name: str | None = None,
        role: Role | None = None,
        skills: dict[str, int] | None = None,
        active: bool | None = None,
    ) -> Operator:
        with Session(self._engine) as session, session.begin():
            row = self._row(session, operator_id)
            if display_name is not None:
                row.display_name = display_name
            if role is not None:
                row.role = role.value
            if skills is not None:
                row.skills = json.dumps(skills, sort_keys=True)
            if active is not None:
                row.active = active
            return _operator(row)

    def get(self, operator_id: str) -> Operator:
        with Session(self._engine) as session:
            return _operator(self._row(session, operator_id))

    def all(self, active_only: bool = False) -> list[Operator]:
        query = select(OperatorRow).order_by(OperatorRow.id)
        if active_only:
            query = query.where(OperatorRow.active.is_(True))
        with Session(self._engine) as session:
            return [_operator(row) for row in session.scalars(query)]

    def authenticate(self, token: str) -> Operator | None:
        """The active operator this API token belongs to, or None."""
        wanted = passwords.digest(token)  # of a random token: looked up by its index, not scanned
        with Session(self._engine) as session:
            for row in session.scalars(select(OperatorRow).where(OperatorRow.token_hash == wanted)):
                if hmac.compare_digest(row.token_hash, wanted) and row.active:
                    return _operator(row)
        return None

    @staticmethod
    def _row(session: Session, operator_id: str) -> OperatorRow:
        row = session.get(OperatorRow, operator_id)
        if row is None:
            raise UnknownOperator(f"operator '{operator_id}' does not exist")
        return row


def _new_credentials(operator_id: str) -> Credentials:
    return Credentials(
        operator_id, secrets.token_urlsafe(18), secrets.token_urlsafe(24), passwords.new_password()
    )
