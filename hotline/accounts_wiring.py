"""Accounts in the composition root: the sign-in parts every guard shares, and the first admin.

There is no default credential: the first admin is made by `hotline admin create`, or at start
from the bootstrap secret (``accounts.bootstrap_password_file``, a Docker secret), or in
development from a password made once under var/secrets/admin-password.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import Engine

from agents.accounts import Accounts
from agents.auth import Authenticator
from agents.directory import OperatorDirectory, Role
from agents.exceptions import OperatorExists
from agents.sessions import Sessions
from agents.tokens import Tokens
from core.settings import Settings, bootstrap_password

log = logging.getLogger("hotline.accounts")


@dataclass(frozen=True)
class People:
    accounts: Accounts
    sessions: Sessions
    tokens: Tokens
    auth: Authenticator


def people(settings: Settings, engine: Engine, directory: OperatorDirectory) -> People:
    sessions, tokens = Sessions(engine, settings.accounts), Tokens(engine)
    accounts = Accounts(engine, settings.accounts)
    auth = Authenticator(directory, sessions, tokens, settings.accounts.totp_roles)
    return People(accounts, sessions, tokens, auth)


def first_admin(settings: Settings, directory: OperatorDirectory, accounts: Accounts) -> str | None:
    """Makes the first admin from the bootstrap secret when no admin account was ever made; its
    id, or None (there is one, even deactivated: the secret is never read again; or no secret:
    `hotline admin create` makes one)."""
    if accounts.admins(active_only=False):
        return None
    password = bootstrap_password(settings)
    name = settings.accounts.bootstrap_admin
    if password is None:
        log.warning("no admin account yet: make the first with `hotline admin create <id>`")
        return None
    try:
        directory.create(name, "Administrator", Role.ADMIN, {})
    except OperatorExists:
        log.error(
            "no active admin, and the account %r exists with another role: use `hotline admin create`", name
        )
        return None
    accounts.set_password(name, password)
    where = settings.accounts.bootstrap_password_file or settings.var_dir / "secrets" / "admin-password"
    log.info("first admin %r made: sign in with the password in %s, then change it", name, where)
    return name
