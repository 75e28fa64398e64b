"""The one SQLAlchemy declarative base every room's models share (one metadata, one Alembic)."""

from datetime import UTC, datetime
from typing import overload

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass


@overload
def stored_utc(value: datetime) -> datetime: ...
@overload
def stored_utc(value: None) -> None: ...
def stored_utc(value: datetime | None) -> datetime | None:
    """A time read back from the database: SQLite returns naive datetimes, and every stored
    time is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value
