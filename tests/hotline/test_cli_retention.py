"""`hotline retention` on the configured database: old records become interval statistics."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from core.db import make_engine, migrate
from hotline.cli import main
from metrics.records.record import Outcome
from metrics.records.store import RecordStore
from tests.conftest import ROOT
from tests.metrics.records.test_retention import call


def test_retention_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'hotline.sqlite3'}"
    config = tmp_path / "hotline.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "var_dir": str(tmp_path / "var"),
                "database_url": url,
                "ivr_seed": str(ROOT / "hotline-ivr.yaml"),
                "privacy": {"retention_days": 30},
            }
        ),
        encoding="utf-8",
    )
    engine = make_engine(url)
    migrate(engine)
    now = datetime.now(UTC)
    store = RecordStore(engine)
    store.save_many([call(now - timedelta(days=31, minutes=i), Outcome.ANSWERED) for i in range(3)])
    store.save_many([call(now - timedelta(days=29), Outcome.ANSWERED)])
    assert main(["--config", str(config), "retention"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("3 call records that started before ") and "and deleted" in out
    assert len(store.list()) == 1
    assert main(["--config", str(config), "retention"]) == 0
    assert capsys.readouterr().out.startswith("0 call records")
    engine.dispose()


def test_a_bad_retention_setting_is_a_configuration_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "hotline.yaml"
    config.write_text(yaml.safe_dump({"var_dir": str(tmp_path), "privacy": {"retention_days": 0}}))
    assert main(["--config", str(config), "retention"]) == 2
    assert "privacy.retention_days" in capsys.readouterr().err
