from __future__ import annotations

from pathlib import Path

import pytest

from hotline.settings import SettingsError, load_settings
from tests.conftest import ROOT, make_settings


def test_shipped_file_loads_with_its_defaults(tmp_path: Path) -> None:
    s = make_settings(tmp_path)
    assert (s.agi.host, s.agi.port) == ("127.0.0.1", 4573)
    assert (s.http.host, s.http.port) == ("127.0.0.1", 8080)
    assert s.menu.default_queue == "main"
    assert s.menu.options["1"] == "crisis"
    assert {q.name for q in s.queues} >= {"main", "crisis"}


def test_development_makes_one_private_secret_and_keeps_it(tmp_path: Path) -> None:
    first = make_settings(tmp_path).asterisk[0].secret()
    second = make_settings(tmp_path).asterisk[0].secret()
    assert first and first == second
    secret_file = tmp_path / "var" / "secrets" / "ami-local"
    assert secret_file.stat().st_mode & 0o077 == 0


def test_production_refuses_a_missing_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOTLINE_AMI_SECRET_LOCAL", raising=False)
    with pytest.raises(
        SettingsError, match="asterisk node 'local': no AMI secret outside development"
    ):
        make_settings(tmp_path, environment="production")


def test_production_takes_the_secret_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOTLINE_AMI_SECRET_LOCAL", "s3cret-from-env")
    assert (
        make_settings(tmp_path, environment="production").asterisk[0].secret() == "s3cret-from-env"
    )


def test_environment_overrides_the_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOTLINE_HTTP__PORT", "9191")
    assert load_settings(ROOT / "hotline.yaml", var_dir=str(tmp_path)).http.port == 9191


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"menu": {"default_queue": "nowhere", "options": {}}},
            "menu.default_queue 'nowhere' is not in queues",
        ),
        (
            {"menu": {"options": {"1": "ghost"}}},
            "menu.options['1']: topic 'ghost' is not in topics",
        ),
        ({"menu": {"options": {"12": "crisis"}}}, "menu option key '12' must be one digit 0-9"),
        ({"queues": [{"name": "general"}]}, "queue name 'general' is reserved"),
    ],
)
def test_invalid_configuration_says_what_and_where(
    tmp_path: Path, change: dict[str, object], message: str
) -> None:
    with pytest.raises(SettingsError) as info:
        make_settings(tmp_path, **change)
    assert message in str(info.value)
    assert "hotline.yaml" in str(info.value)


def test_missing_named_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "nope.yaml")


def test_broken_yaml_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("queues: [\n", encoding="utf-8")
    with pytest.raises(SettingsError, match=r"bad\.yaml: not valid YAML"):
        load_settings(bad)
