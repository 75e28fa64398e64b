"""Database engine and schema migrations (Alembic, applied on start)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa
from sqlalchemy.engine.url import make_url

from core.files import private_dir, private_file, tighten

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
CONNECT_TIMEOUT = 5  # seconds, PostgreSQL; a database_url may set its own (?connect_timeout=N)
# SQLSTATEs of a database that is away or busy, not of what it was given: connection (08),
# transaction rollback (40: serialization, deadlock), insufficient resources (53: disk full),
# operator intervention (57: shutdown, starting up), system error (58), a read-only standby (25006).
_TRANSIENT_STATES = ("08", "40", "53", "57", "58", "25006")


def make_engine(url: str) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _private_sqlite(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # A server that does not answer (a host down, packets dropped) fails a connection in seconds,
    # not after the system's TCP timeout of minutes: the workers that wait on it stay few.
    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT}
    return create_engine(url, pool_pre_ping=True, connect_args=connect_args)


def _private_sqlite(path: Path) -> None:
    """The records' file 0600 before SQLite opens it: SQLite gives its -wal and -shm the main
    file's mode. Files left looser by an earlier version are tightened."""
    private_dir(path.parent)
    private_file(path)
    for suffix in ("-wal", "-shm", "-journal"):
        tighten(path.with_name(path.name + suffix))


def _sqlite_pragmas(dbapi_connection: object, _record: object) -> None:
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest revision."""
    command.upgrade(alembic_config(engine), "head")


def is_outage(exc: BaseException) -> bool:
    """The database is away (stopped, unreachable, restarting, out of space, a SQLite file
    locked by another writer): the same work is worth trying again later. Anything else is the
    database refusing what it was given (a constraint, a value too long)."""
    if isinstance(exc, sa.DBAPIError) and exc.connection_invalidated:
        return True
    if isinstance(exc, sa.OperationalError | sa.InterfaceError | sa.DisconnectionError | sa.TimeoutError):
        return True
    state = getattr(getattr(exc, "orig", None), "sqlstate", None)
    return isinstance(exc, OSError) or (isinstance(state, str) and state.startswith(_TRANSIENT_STATES))
