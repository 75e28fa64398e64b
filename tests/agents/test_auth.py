"""The guard's question asked again for a request that stays open (a stream): still_admits."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from starlette.requests import Request

from agents.auth import Authenticator
from agents.directory import OperatorDirectory, Role
from core.db import make_engine, migrate

ADMIN_TOKEN = "admin-t0ken"
LEADS = {Role.SHIFT_LEAD, Role.ADMIN}


def request(token: str) -> Request:
    return Request({"type": "http", "headers": [(b"authorization", f"Bearer {token}".encode())]})


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.sqlite3'}")
    migrate(engine)
    return engine


async def test_the_admin_token_and_an_active_lead_stay_admitted(engine: Engine) -> None:
    directory = OperatorDirectory(engine)
    lead = directory.create("lead-1", "Lead", Role.SHIFT_LEAD, {}).api_token
    still = Authenticator(ADMIN_TOKEN, directory).still_admits(LEADS)
    assert await still(request(ADMIN_TOKEN)) and await still(request(lead))


@pytest.mark.parametrize("revoke", ["deactivated", "token-reset", "demoted"])
async def test_a_revoked_lead_is_admitted_no_more(engine: Engine, revoke: str) -> None:
    directory = OperatorDirectory(engine)
    lead = directory.create("lead-1", "Lead", Role.SHIFT_LEAD, {}).api_token
    still = Authenticator(ADMIN_TOKEN, directory).still_admits(LEADS)
    if revoke == "deactivated":
        directory.update("lead-1", active=False)
    elif revoke == "token-reset":
        directory.reset_credentials("lead-1")
    else:
        directory.update("lead-1", role=Role.OPERATOR)
    assert not await still(request(lead))
    assert not await still(request("no-such-token"))


async def test_a_database_that_cannot_be_read_has_revoked_nothing(engine: Engine) -> None:
    """Revoking is a database write: while the operators cannot be read, open streams stay."""
    directory = OperatorDirectory(engine)
    lead = directory.create("lead-1", "Lead", Role.SHIFT_LEAD, {}).api_token
    still = Authenticator(ADMIN_TOKEN, directory).still_admits(LEADS)
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE operators RENAME TO operators_away"))
    assert await still(request(lead))
