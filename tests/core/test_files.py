"""Files with credentials or records: 0600, in 0700 folders (issue 14, item 6)."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from core import logs
from core.db import make_engine
from core.files import private_dir, private_file
from core.settings import bootstrap_password
from tests.conftest import make_settings


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    """The modes must not depend on a careful umask."""
    old = os.umask(0o022)
    try:
        yield
    finally:
        os.umask(old)


def test_a_private_file_is_made_0600_and_a_loose_one_tightened(tmp_path: Path) -> None:
    fresh, loose = tmp_path / "fresh", tmp_path / "loose"
    loose.write_text("kept", encoding="utf-8")
    loose.chmod(0o644)
    private_file(fresh)
    private_file(loose)
    assert (mode(fresh), mode(loose), loose.read_text(encoding="utf-8")) == (0o600, 0o600, "kept")


def test_a_private_folder_is_made_0700_and_an_own_one_tightened(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    private_dir(tmp_path / "new" / "folder")
    private_dir(shared)
    assert (mode(tmp_path / "new" / "folder"), mode(shared)) == (0o700, 0o755)
    private_dir(shared, own=True)
    assert mode(shared) == 0o700


def test_the_sqlite_database_and_its_wal_and_shm_are_0600_in_a_0700_folder(tmp_path: Path) -> None:
    path = tmp_path / "db" / "hotline.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1)"))
        wal, shm = path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")
        assert wal.exists() and shm.exists()
        assert (mode(path.parent), mode(path), mode(wal), mode(shm)) == (0o700, 0o600, 0o600, 0o600)
    engine.dispose()


def test_a_database_left_0644_by_an_earlier_version_is_tightened(tmp_path: Path) -> None:
    path = tmp_path / "hotline.sqlite3"
    make_engine(f"sqlite:///{path}").dispose()
    path.chmod(0o644)
    (wal := path.with_name(path.name + "-wal")).write_bytes(b"")
    wal.chmod(0o644)
    make_engine(f"sqlite:///{path}").dispose()
    assert (mode(path), mode(wal)) == (0o600, 0o600)


def test_the_log_file_is_0600_in_a_0700_folder(tmp_path: Path) -> None:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    log_file = tmp_path / "logs" / "hotline.log"
    try:
        logs.setup("INFO", log_file)
        logging.getLogger("hotline.test").info("a line")
    finally:
        for handler in root.handlers:
            handler.close()
        root.handlers[:] = handlers
        root.setLevel(level)
    assert "a line" in log_file.read_text(encoding="utf-8")
    assert (mode(log_file.parent), mode(log_file)) == (0o700, 0o600)


def test_development_secrets_are_0600_in_a_0700_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_AMI_SECRET_LOCAL", raising=False)
    (tmp_path / "var" / "secrets").mkdir(parents=True, mode=0o755)
    (tmp_path / "var" / "secrets").chmod(0o755)
    bootstrap_password(make_settings(tmp_path))  # the first admin's, made at the service's start
    secrets = tmp_path / "var" / "secrets"
    assert mode(secrets) == 0o700
    assert {p.name: mode(p) for p in secrets.iterdir()} == {
        "admin-password": 0o600,
        "ami-local": 0o600,
        "agi-secret": 0o600,
    }
