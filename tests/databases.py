"""A migrated database of each kind for the retention and export tests: a SQLite file and a
fresh PostgreSQL database on 127.0.0.1:5432 (skipped when no server answers)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from core.db import make_engine, migrate

PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_available() -> bool:
    try:
        with create_engine(PG_ADMIN_URL).connect() as conn:
            conn.execute(text("select 1"))
    except Exception:
        return False
    return True


def migrated_sqlite(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'db' / 'hotline.sqlite3'}")
    migrate(engine)
    return engine


def migrated_postgres(prepare: Callable[[Engine], None] = migrate) -> Iterator[Engine]:
    """A fresh database, dropped afterwards; ``prepare`` migrates it (to head by default)."""
    if not _postgres_available():
        pytest.skip("no PostgreSQL server on 127.0.0.1:5432")
    name = f"hotline_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    try:
        prepare(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        engine = migrated_sqlite(tmp_path)
        yield engine
        engine.dispose()
    else:
        yield from migrated_postgres()
