"""Alembic environment: the engine comes from the hotline (core/db.py), never from an ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from core.orm import Base

# Migrations are written by hand; the rooms' tables are not imported here (core imports no room).
target_metadata = Base.metadata


def run() -> None:
    engine: Engine = context.config.attributes["engine"]
    with engine.begin() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


run()
