"""Alembic environment: the engine comes from the hotline (hotline/db.py), never from an ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

import agents.models  # noqa: F401 - registers the operators table
import ivr.models  # noqa: F401 - registers the IVR tables
import metrics.models  # noqa: F401 - registers the call records table
from hotline.orm import Base

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
