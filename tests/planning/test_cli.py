"""``hotline plan`` on a SQLite database seeded with generated records: the forecast summary,
a roster with progress lines and its JSON, and a bad request naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from core.db import make_engine, migrate
from hotline.cli import main
from tests.planning.test_api import START, TEMPLATES, seed


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("plan") / "var" / "hotline.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    seed(engine, weeks=3)
    engine.dispose()
    return path


@pytest.fixture
def database(seeded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("HOTLINE_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_DATABASE_URL", f"sqlite:///{seeded}")
    monkeypatch.setenv("HOTLINE_METRICS__TIMEZONE", "Europe/Moscow")  # the line's zone: the plans' default
    return tmp_path


def test_plan_forecast_prints_each_queue_with_its_backtest_error(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = database / "plan.json"
    code = main(
        [
            "plan",
            "forecast",
            "--start",
            START.isoformat(),
            "--days",
            "2",
            "--weeks",
            "3",
            "--service-level",
            "0.9",
            "--json",
            str(out_file),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "plan from 2026-11-23, 2 day(s) of 30-minute intervals (Europe/Moscow)" in out
    assert "crisis: " in out and "legal: " in out and "backtest WAPE" in out
    plan = json.loads(out_file.read_text())
    assert len(plan["intervals"]) == 96
    crisis = next(q for q in plan["queues"] if q["queue"] == "crisis")
    assert all(s >= 0.9 for s, a in zip(crisis["service_level"], crisis["agents"], strict=True) if a)


def test_plan_roster_reports_progress_and_writes_the_roster(
    database: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    request = database / "roster.yaml"
    request.write_text(
        yaml.safe_dump(
            {
                "templates": TEMPLATES,
                "operators": [{"id": f"op-{i}", "max_hours_week": 30} for i in range(6)],
                "rules": {"min_rest_hours": 12},
            }
        )
    )
    out_file = database / "roster.json"
    code = main(
        [
            "plan",
            "roster",
            "--request",
            str(request),
            "--start",
            START.isoformat(),
            "--days",
            "7",
            "--weeks",
            "3",
            "--interval",
            "60",
            "--time-limit",
            "5",
            "--json",
            str(out_file),
        ]
    )
    assert code == 0
    captured = capsys.readouterr()
    assert "solving the roster" in captured.err and "roster 1: under-coverage" in captured.err
    assert "  op-0: " in captured.out
    roster = json.loads(out_file.read_text())
    assert all(h <= 30 for o in roster["operators"] for h in o["hours_per_week"])
    assert len(roster["scheduled"]) == 7 * 24


def test_a_bad_request_names_the_field(database: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["plan", "forecast", "--max-occupancy", "1.5"])
    assert code == 2
    assert "targets.max_occupancy" in capsys.readouterr().err


def test_plans_are_in_the_lines_time_zone_unless_another_is_asked(
    database: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_METRICS__TIMEZONE", "Europe/Warsaw")
    day = ["--start", START.isoformat(), "--days", "1", "--weeks", "3"]
    assert main(["plan", "forecast", *day]) == 0
    assert "30-minute intervals (Europe/Warsaw)" in capsys.readouterr().out
    assert main(["plan", "forecast", *day, "--timezone", "Asia/Almaty"]) == 0
    assert "30-minute intervals (Asia/Almaty)" in capsys.readouterr().out
