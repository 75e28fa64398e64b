"""The one SQLAlchemy declarative base every room's models share (one metadata, one Alembic)."""

from sqlalchemy.orm import DeclarativeBase


class Base(DeclarativeBase):
    pass
