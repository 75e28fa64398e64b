"""The private PostgreSQL of the outage tests: stopped, it refuses connections; started again,
it has kept its data; destroyed, nothing of it is left."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from core.db import is_outage
from tests.pg_private import PrivatePostgres, require

pytestmark = pytest.mark.postgres


def test_stopped_it_refuses_started_again_it_kept_its_data(private_postgres: PrivatePostgres) -> None:
    engine = create_engine(private_postgres.create_database(), pool_pre_ping=True)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE kept (n int)"))
        conn.execute(text("INSERT INTO kept VALUES (42)"))
    private_postgres.stop()
    with pytest.raises(OperationalError) as refused, engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert is_outage(refused.value)
    private_postgres.start()
    with engine.connect() as conn:
        assert conn.execute(text("SELECT n FROM kept")).scalar() == 42
    engine.dispose()


def test_destroyed_it_leaves_nothing() -> None:
    require()
    server = PrivatePostgres()
    server.start()
    server.destroy()
    assert not server.root.exists() and not server.running
