"""The Alembic migrations build exactly the tables the models describe; a database that is
away is told from one refusing what it was given."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from psycopg import errors as pg
from sqlalchemy.exc import (
    DataError,
    DBAPIError,
    IntegrityError,
    InterfaceError,
    OperationalError,
    ProgrammingError,
)

import agents.models  # noqa: F401 - registers its tables
import core.audit  # noqa: F401
import desk.models  # noqa: F401
import ivr.models  # noqa: F401
import metrics.records.models  # noqa: F401
import supervision.models  # noqa: F401
import wallboard.models  # noqa: F401
from core.db import is_outage, make_engine, migrate
from core.orm import Base


def test_migrations_match_the_models(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.db'}")
    migrate(engine)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert diff == []


def test_outages_are_told_from_refusals() -> None:
    def wrapped(kind: type[DBAPIError], orig: BaseException) -> DBAPIError:
        return kind("INSERT", {}, orig)  # type: ignore[arg-type]

    assert is_outage(wrapped(OperationalError, ConnectionRefusedError()))
    assert is_outage(wrapped(OperationalError, Exception("database is locked")))
    assert is_outage(wrapped(InterfaceError, Exception("connection already closed")))
    assert is_outage(wrapped(DBAPIError, pg.ReadOnlySqlTransaction()))  # a standby after failover
    assert is_outage(ConnectionResetError())
    invalidated = wrapped(DBAPIError, Exception("gone"))
    invalidated.connection_invalidated = True
    assert is_outage(invalidated)
    assert not is_outage(wrapped(IntegrityError, pg.NotNullViolation()))
    assert not is_outage(wrapped(DataError, pg.StringDataRightTruncation()))
    assert not is_outage(wrapped(ProgrammingError, Exception("syntax")))
    assert not is_outage(ValueError("not a record"))
