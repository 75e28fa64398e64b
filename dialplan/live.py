"""The IVR document Asterisk should run now: the live version, or the seed on a new install."""

from __future__ import annotations

import json

from agents.directory import Operator, OperatorDirectory
from core.db import make_engine, migrate
from core.settings import Settings
from ivr.codec import from_data, from_yaml
from ivr.document import IvrDocument
from ivr.seed import seed_file
from ivr.store import IvrStore


def live_document(settings: Settings) -> IvrDocument:
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        store = IvrStore(engine)
        number = store.active_number()
        stored = store.version(number) if number is not None else None
    finally:
        engine.dispose()
    if stored is not None:
        return from_data(json.loads(stored.document))
    return from_yaml(seed_file(settings.ivr_seed).read_text(encoding="utf-8"))


def live_operators(settings: Settings) -> list[Operator]:
    """Active operators, whose softphone accounts Asterisk must know."""
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        return OperatorDirectory(engine).all(active_only=True)
    finally:
        engine.dispose()
