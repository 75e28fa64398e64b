from __future__ import annotations

import logging
from pathlib import Path

import pytest

from agents.directory import OperatorDirectory
from core.db import make_engine, migrate
from core.settings import SettingsError, bootstrap_password, load_settings
from hotline.accounts_wiring import first_admin, people
from tests.conftest import ROOT, make_settings


def test_shipped_file_loads_with_its_defaults(tmp_path: Path) -> None:
    s = make_settings(tmp_path)
    assert (s.agi.host, s.agi.port) == ("127.0.0.1", 4573)
    assert (s.http.host, s.http.port) == ("127.0.0.1", 8080)
    assert s.ivr_seed.name == "hotline-ivr.yaml" and s.ivr_seed.is_absolute()
    # Relative paths in the file resolve against the file's folder, not the working directory.
    assert s.asterisk[0].config_dir == ROOT / "var" / "sandbox" / "etc"


def test_development_makes_one_private_secret_and_keeps_it(tmp_path: Path) -> None:
    first = make_settings(tmp_path).asterisk[0].secret()
    second = make_settings(tmp_path).asterisk[0].secret()
    assert first and first == second
    secret_file = tmp_path / "var" / "secrets" / "ami-local"
    assert secret_file.stat().st_mode & 0o077 == 0


def test_production_refuses_a_missing_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HOTLINE_AMI_SECRET_LOCAL", raising=False)
    with pytest.raises(SettingsError, match="asterisk node 'local': no AMI secret outside development"):
        make_settings(tmp_path, environment="production")


def test_production_takes_the_secret_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AMI_SECRET_LOCAL", "s3cret-from-env")
    monkeypatch.setenv("HOTLINE_AGI_SECRET", "g" * 24)
    assert make_settings(tmp_path, environment="production").asterisk[0].secret() == "s3cret-from-env"


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_HTTP__PORT", "9191")
    assert load_settings(ROOT / "hotline.yaml", var_dir=str(tmp_path)).http.port == 9191


def test_invalid_configuration_says_what_and_where(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        make_settings(tmp_path, asterisk=[{"name": "a"}, {"name": "a"}])
    assert "asterisk node names must be unique" in str(info.value)
    assert "hotline.yaml" in str(info.value)


def test_production_without_a_bootstrap_secret_starts_with_no_admin_and_says_how_to_make_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """No admin token any more, and no default credential: the settings load; the service
    makes no admin and logs the command that makes the first one."""
    monkeypatch.setenv("HOTLINE_AMI_SECRET_LOCAL", "x" * 20)
    monkeypatch.setenv("HOTLINE_AGI_SECRET", "g" * 24)
    settings = make_settings(tmp_path, environment="production")
    assert settings.accounts.bootstrap_password_file is None and bootstrap_password(settings) is None
    engine = make_engine(settings.database_url)
    migrate(engine)
    directory = OperatorDirectory(engine)
    with caplog.at_level(logging.WARNING, logger="hotline.accounts"):
        assert first_admin(settings, directory, people(settings, engine, directory).accounts) is None
    assert "make the first with `hotline admin create <id>`" in caplog.text
    assert directory.all() == [] and not (tmp_path / "var" / "secrets" / "admin-password").exists()
    engine.dispose()


def test_the_retired_admin_token_setting_is_refused_and_its_variable_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for retired in ("admin_token", "admin_token_file"):
        with pytest.raises(SettingsError, match=retired):
            make_settings(tmp_path, **{retired: "t" * 24})
    monkeypatch.setenv("HOTLINE_ADMIN_TOKEN", "t" * 24)
    assert not hasattr(make_settings(tmp_path), "admin_token")


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("queues: [\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"bad\.yaml: not valid YAML"):
        load_settings(bad)


def test_development_makes_one_private_agi_secret_and_keeps_it(tmp_path: Path) -> None:
    first = make_settings(tmp_path).agi.secret_value()
    assert first and first == make_settings(tmp_path).agi.secret_value()
    secret_file = tmp_path / "var" / "secrets" / "agi-secret"
    assert secret_file.read_text(encoding="utf-8") == first
    assert secret_file.stat().st_mode & 0o077 == 0


def test_production_refuses_a_missing_agi_secret(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_AMI_SECRET_LOCAL", "x" * 20)
    monkeypatch.delenv("HOTLINE_AGI_SECRET", raising=False)
    with pytest.raises(SettingsError, match="no FastAGI secret outside development"):
        make_settings(tmp_path, environment="production")
    monkeypatch.setenv("HOTLINE_AGI_SECRET", "g" * 24)
    assert make_settings(tmp_path, environment="production").agi.secret_value() == "g" * 24


@pytest.mark.parametrize("secret", ["short", "g" * 20 + ",x", "g" * 20 + "${X}", "g" * 20 + "\nx"])
def test_an_agi_secret_the_dialplan_would_misread_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, secret: str
) -> None:
    monkeypatch.setenv("HOTLINE_AGI_SECRET", secret)
    with pytest.raises(SettingsError, match="FastAGI secret must be"):
        make_settings(tmp_path)
