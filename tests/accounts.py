"""Accounts for tests: an admin with a known personal token, a person with a known password,
and the guards' parts.

There is no shared admin token any more; tests that act as an admin make an admin account and
give it a personal token they know (stored, like every token, as its sha256)."""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

from fastapi import APIRouter
from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from agents.accounts import Accounts
from agents.accounts_api import accounts_router
from agents.auth import Authenticator
from agents.directory import OperatorDirectory, Role
from agents.exceptions import OperatorExists
from agents.models import OperatorRow
from agents.sessions import Sessions
from agents.tokens import Tokens
from core.db import make_engine, migrate
from core.settings import AccountSettings

ADMIN_ID = "admin"


def make_admin(engine: Engine, token: str, admin_id: str = ADMIN_ID) -> str:
    """An admin account whose personal API token is ``token``; its id."""
    directory = OperatorDirectory(engine)
    with contextlib.suppress(OperatorExists):
        directory.create(admin_id, "Administrator", Role.ADMIN, {})
    with Session(engine) as session, session.begin():
        session.execute(
            update(OperatorRow)
            .where(OperatorRow.id == admin_id)
            .values(token_hash=hashlib.sha256(token.encode()).hexdigest())
        )
    return admin_id


def make_person(
    engine: Engine,
    person_id: str,
    password: str,
    role: Role = Role.OPERATOR,
    settings: AccountSettings | None = None,
) -> str:
    """A person who signs in with this password (as on a page); their id."""
    with contextlib.suppress(OperatorExists):
        OperatorDirectory(engine).create(person_id, person_id, role, {})
    Accounts(engine, settings or AccountSettings()).set_password(person_id, password)
    return person_id


def authenticator(
    engine: Engine, directory: OperatorDirectory | None = None, admin_token: str | None = None
) -> Authenticator:
    """The guards' parts on this database; with ``admin_token``, an admin who holds it."""
    if admin_token is not None:
        make_admin(engine, admin_token)
    settings = AccountSettings()
    return Authenticator(directory or OperatorDirectory(engine), Sessions(engine, settings), Tokens(engine))


def sign_in_routes(engine: Engine, settings: AccountSettings | None = None) -> APIRouter:
    """The routes of signing in on this database (/api/session and the rest of
    agents/accounts_api.py), for a page test's app: a page signs in as a person."""
    settings = settings or AccountSettings()
    sessions, tokens = Sessions(engine, settings), Tokens(engine)
    auth = Authenticator(OperatorDirectory(engine), sessions, tokens)
    return accounts_router(
        auth, Accounts(engine, settings), sessions, tokens, settings, lambda _: "127.0.0.1"
    )


@contextlib.contextmanager
def one_person(person_id: str, password: str, role: Role = Role.OPERATOR) -> Iterator[APIRouter]:
    """The routes of signing in over a throwaway database that holds one person, for a page test
    whose other routes are stand-ins."""
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'accounts.sqlite3'}")
        migrate(engine)
        make_person(engine, person_id, password, role)
        try:
            yield sign_in_routes(engine)
        finally:
            engine.dispose()
