"""The private PostgreSQL of the outage tests: stopped, it refuses connections; started again,
it has kept its data; destroyed, nothing of it is left; left behind by a killed test process,
the next session sweeps it."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

from core.db import is_outage
from tests.conftest import ROOT
from tests.pg_private import PrivatePostgres, require, sweep_stale

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


def test_a_server_whose_test_process_was_killed_is_swept_by_the_next_session() -> None:
    require()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        root, port = child.stdout.readline().split()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert Path(root).exists()  # no finaliser ran: the server is still up
    sweep_stale()
    assert not Path(root).exists()
    with pytest.raises(OperationalError), create_engine(f"{URL}:{port}/postgres").connect():
        pass


KILLED = """
import time
from tests.pg_private import PrivatePostgres
server = PrivatePostgres()
server.start()
print(server.root, server.port, flush=True)
time.sleep(600)
"""
URL = "postgresql+psycopg://postgres@127.0.0.1"
