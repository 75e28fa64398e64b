"""The docker-compose files cannot run here (no Docker engine); what can drift is checked:
the settings file loads and renders a server configuration that passes the privacy check."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from dialplan.check import check, read
from dialplan.render import render, server_target, write
from hotline.settings import load_settings
from tests.conftest import ROOT, seed_document


def test_compose_settings_load_and_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "ami_secret"
    secret.write_text("s" * 32, encoding="utf-8")
    monkeypatch.setenv("HOTLINE_ADMIN_TOKEN", "t" * 32)
    data = yaml.safe_load((ROOT / "deploy" / "hotline" / "hotline.yaml").read_text(encoding="utf-8"))
    data["asterisk"][0]["ami_secret_file"] = str(secret)
    path = tmp_path / "hotline.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    settings = load_settings(path)
    node = settings.asterisk[0]
    assert (settings.environment, node.layout, node.config_dir) == (
        "production",
        "server",
        Path("/etc/asterisk"),
    )
    doc = seed_document()
    write(render(settings, server_target(settings, tuple(node.permit)), doc), tmp_path / "etc")
    check(tmp_path / "etc", doc.queue_names())
    manager = dict(read(tmp_path / "etc" / "manager.conf")["hotline"])
    assert (manager["permit"], manager["secret"]) == ("172.28.0.0/16", "s" * 32)
    assert "agi://hotline:4573/ivr" in (tmp_path / "etc" / "extensions.conf").read_text()


def test_compose_file_wires_the_shared_volumes() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert "asterisk-etc:/etc/asterisk:ro" in services["asterisk"]["volumes"]
    assert "hotline-sounds:/var/lib/hotline/sounds:ro" in services["asterisk"]["volumes"]
    assert "hotline-sounds:/var/lib/hotline/sounds" in services["hotline"]["volumes"]
    assert set(services) >= {"asterisk", "hotline", "postgres", "prometheus", "grafana"}
