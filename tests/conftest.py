"""Shared fixtures: settings built from the shipped hotline.yaml in a private var dir."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings, load_settings
from ivr.codec import from_yaml
from ivr.document import IvrDocument

ROOT = Path(__file__).resolve().parent.parent


def make_settings(tmp: Path, **overrides: Any) -> Settings:
    overrides.setdefault("var_dir", str(tmp / "var"))
    overrides.setdefault("database_url", f"sqlite:///{tmp / 'var' / 'hotline.sqlite3'}")
    return load_settings(ROOT / "hotline.yaml", **overrides)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def seed_document() -> IvrDocument:
    return from_yaml((ROOT / "tests" / "menu.yaml").read_text(encoding="utf-8"))


@pytest.fixture
def document() -> IvrDocument:
    return seed_document()


from tests.databases import database  # noqa: E402,F401  - the sqlite/postgres fixture, for every room's tests
from tests.installed import installed  # noqa: E402,F401  - the wheel in a fresh venv (packaging, e2e)
from tests.pg_private import private_postgres, private_postgres_server  # noqa: E402,F401  - stop/start at will
