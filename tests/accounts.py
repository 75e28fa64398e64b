"""Accounts for tests: an admin with a known personal token, and the guards' parts.

There is no shared admin token any more; tests that act as an admin make an admin account and
give it a personal token they know (stored, like every token, as its sha256)."""

from __future__ import annotations

import hashlib

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from agents.auth import Authenticator
from agents.directory import OperatorDirectory, Role
from agents.exceptions import OperatorExists
from agents.models import OperatorRow
from agents.sessions import Sessions
from agents.tokens import Tokens
from core.settings import AccountSettings

ADMIN_ID = "admin"


def make_admin(engine: Engine, token: str, admin_id: str = ADMIN_ID) -> str:
    """An admin account whose personal API token is ``token``; its id."""
    directory = OperatorDirectory(engine)
    try:
        directory.create(admin_id, "Administrator", Role.ADMIN, {})
    except OperatorExists:
        pass
    with Session(engine) as session, session.begin():
        session.execute(
            update(OperatorRow)
            .where(OperatorRow.id == admin_id)
            .values(token_hash=hashlib.sha256(token.encode()).hexdigest())
        )
    return admin_id


def authenticator(
    engine: Engine, directory: OperatorDirectory | None = None, admin_token: str | None = None
) -> Authenticator:
    """The guards' parts on this database; with ``admin_token``, an admin who holds it."""
    if admin_token is not None:
        make_admin(engine, admin_token)
    settings = AccountSettings()
    return Authenticator(directory or OperatorDirectory(engine), Sessions(engine, settings), Tokens(engine))
