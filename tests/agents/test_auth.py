"""The guard's question asked again for a request that stays open (a stream): still_admits."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
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


async def test_an_operators_token_is_looked_up_in_a_worker_thread_by_its_index(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request's guard: an operator's token is a database read, never on the loop (it
    was a scan of every operator, on the loop, for each request)."""
    directory = OperatorDirectory(engine)
    for n in range(3):
        directory.create(f"op-{n}", f"Op {n}", Role.OPERATOR, {})
    lead = directory.create("lead-1", "Lead", Role.SHIFT_LEAD, {}).api_token
    threads: list[str] = []
    looked_up = directory.authenticate

    def authenticate(token: str) -> object:
        threads.append(threading.current_thread().name)
        return looked_up(token)

    monkeypatch.setattr(directory, "authenticate", authenticate)
    check = Authenticator(ADMIN_TOKEN, directory).guard(LEADS)
    principal = await check(request(lead), None)  # type: ignore[call-arg]
    assert principal.name == "lead-1"
    assert threads and threads[0] != threading.main_thread().name
    assert "ix_operators_token_hash" in {i["name"] for i in inspect(engine).get_indexes("operators")}
