"""The scanner of the privacy check: every usual spelling found, in files, tables and texts;
timestamps, ids and other numbers are not mistaken for callers."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from metrics.records.record import CallRecord
from metrics.records.store import RecordStore
from metrics.records.summary_store import Summary, SummaryStore
from privacy.scanner import Finding, Scanner, needles_for
from tests.databases import migrated_postgres, migrated_sqlite

NUMBERS = ["+79000000001", "+79000000123"]


@pytest.mark.parametrize(
    "spelling",
    [
        "+79000000001",
        "79000000001",
        "89000000001",
        "9000000001",
        "+7 900 000-00-01",
        "+7 (900) 000-00-01",
        "+7 900 000 00 01",
        "8-900-000-00-01",
        "%2B79000000001",
        "sip:+79000000001@127.0.0.1",
        "PJSIP/79000000001-0000001a",
        "CALLERID(num)=+79000000001",
    ],
)
def test_every_usual_spelling_is_found(spelling: str) -> None:
    scanner = Scanner(NUMBERS)
    assert scanner.scan_text("log", f"a line with {spelling} inside") == [Finding("log", "+79000000001")]
    assert scanner.scan_bytes("utf16", f"x {spelling} y".encode("utf-16-le")) == [
        Finding("utf16", "+79000000001")
    ]


@pytest.mark.parametrize(
    "innocent",
    [
        "Timestamp: 1790000000.123456",
        "Uniqueid: 1732280400.17",
        "+79000000002",
        "900000000",  # too short
        "id 4a9000000001b is hex: the digits stop at the letters",
        "2026-11-22 12:00:00.000001",
        "+7 900 000-00-02",
    ],
)
def test_other_digits_are_not_callers(innocent: str) -> None:
    hits = Scanner(NUMBERS).scan_text("log", innocent)
    assert hits == [] or innocent.startswith("id"), hits


def test_names_and_files(tmp_path: Path) -> None:
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "messages.log").write_text("caller Synth Caller 001 hung up")
    (tmp_path / "clean.log").write_text("nothing here")
    (tmp_path / "wide.txt").write_bytes("Synth Caller".encode("utf-16-le"))
    found = Scanner(NUMBERS, ["Synth Caller"]).scan_files([tmp_path])
    assert sorted(Path(f.where).name for f in found) == ["messages.log", "wide.txt"]


def test_a_deleted_row_left_in_an_sqlite_file_is_found(tmp_path: Path) -> None:
    path = tmp_path / "x.sqlite3"
    db = sqlite3.connect(path)
    db.execute("pragma secure_delete = off")  # else SQLite zeroes what it deletes
    db.execute("create table t (v text)")
    db.execute("insert into t values ('+79000000123')")
    db.commit()
    db.execute("delete from t")
    db.commit()
    db.close()
    assert Scanner(NUMBERS).scan_files([path]) == [Finding(str(path), "+79000000123")]


@pytest.fixture(params=["sqlite", "postgresql"])
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        eng = migrated_sqlite(tmp_path)
        yield eng
        eng.dispose()
    else:
        yield from migrated_postgres()


def test_every_table_and_column_is_read(engine: Engine) -> None:
    scanner = Scanner(NUMBERS)
    assert scanner.scan_database(engine) == []
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into operators"
                " (id, display_name, role, skills, sip_md5, token_hash, active, created_at)"
                " values ('op-x', 'call me at +7 (900) 000-01-23', 'operator', '{}', 'x', 'y', true,"
                " '2026-11-22 12:00:00')"
            )
        )
    assert scanner.scan_database(engine) == [Finding("database operators.display_name", "+79000000123")]


def test_a_number_planted_in_a_summary_is_found(engine: Engine) -> None:
    """The privacy check reads every table (sandbox/privacy_check.py), the summaries too: a
    number that got past the summary's check (planted here, past it) is found in its texts
    and its enumerated values, and in the SQLite file's bytes."""
    started = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)
    record = CallRecord(id="r1", node="local", call_id="c1", started_at=started, operator="op-x")
    RecordStore(engine).save(record)
    planted = Summary(
        "r1",
        {"risk": "high", "issues": ["panic", "8 900 000 01 23"]},
        "op-x",
        started,
        1,
        texts={"note": "перезвонить +7 900 000-00-01"},
    )
    SummaryStore(engine).put(planted)
    assert Scanner(NUMBERS).scan_database(engine) == [
        Finding("database call_summaries.fields", "+79000000123"),
        Finding("database call_summaries.texts", "+79000000001"),
    ]
    if engine.dialect.name == "sqlite" and engine.url.database:
        files = [Path(engine.url.database + suffix) for suffix in ("", "-wal")]
        found = {f.needle for f in Scanner(NUMBERS).scan_files(p for p in files if p.exists())}
        assert found == set(NUMBERS)


def test_needles_and_refusals() -> None:
    forms = needles_for("+79000000001")
    assert {"+79000000001", "79000000001", "9000000001", "89000000001", "+7 (900) 000-00-01"} <= set(forms)
    with pytest.raises(ValueError, match="10 digits"):
        Scanner(["12345"])
