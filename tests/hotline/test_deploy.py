"""What can drift between the docker-compose files and the code, checked without Docker (the
stack itself runs in `make test-deploy`, deploy/test/run): the settings file loads and renders
a server configuration that passes the privacy check; the dashboard and the provisioning."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from core.settings import bootstrap_password, load_settings
from dialplan.check import check, read
from dialplan.render import render, server_target, write
from hotline.app import Hotline
from tests.conftest import ROOT, make_settings, seed_document


def test_compose_settings_load_and_render(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every secret is a file under /run/secrets (Docker secrets); here they are in tmp_path."""
    values = {
        "ami_secret": "s" * 32,
        "agi_secret": "a" * 32 + "\n",
        "admin_password": "first admin's password\n",
        "postgres_password": "p@ss/word\n",
    }
    for name, value in values.items():
        (tmp_path / name).write_text(value, encoding="utf-8")
    text = (ROOT / "deploy" / "hotline" / "hotline.yaml").read_text(encoding="utf-8")
    assert text.count("\n  secret_file: /run/secrets/") + text.count("_file: /run/secrets/") >= 4
    path = tmp_path / "hotline.yaml"
    path.write_text(text.replace("/run/secrets/", f"{tmp_path}/"), encoding="utf-8")
    monkeypatch.setenv("HOTLINE_SIP__EXTERNAL_ADDRESS", "198.51.100.20")  # as docker-compose.yml sets
    settings = load_settings(path)
    node = settings.asterisk[0]
    assert (settings.environment, node.layout, node.config_dir) == (
        "production",
        "server",
        Path("/etc/asterisk"),
    )
    # No admin token: the first admin is made at the first start from the bootstrap secret.
    assert "\n  bootstrap_password_file: /run/secrets/admin_password\n" in text
    assert settings.accounts.bootstrap_password_file == tmp_path / "admin_password"
    assert bootstrap_password(settings) == "first admin's password"
    assert settings.database_url == "postgresql+psycopg://hotline:p%40ss%2Fword@postgres:5432/hotline"
    assert (settings.sip.external_address, settings.sip.local_nets) == ("198.51.100.20", ["172.28.0.0/16"])
    doc = seed_document()
    write(render(settings, server_target(settings, tuple(node.permit)), doc), tmp_path / "etc")
    check(tmp_path / "etc", doc.queue_names())
    manager = dict(read(tmp_path / "etc" / "manager.conf")["hotline"])
    assert (manager["permit"], manager["secret"]) == ("172.28.0.0/16", "s" * 32)
    assert f"AGI(${{HOTLINE_AGI_URL}},{'a' * 32}," in (tmp_path / "etc" / "extensions.conf").read_text()
    assert "agi://hotline:4573/ivr" in (tmp_path / "etc" / "extensions.conf").read_text()


def test_compose_file_wires_the_shared_volumes() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert "asterisk-etc:/etc/asterisk:ro" in services["asterisk"]["volumes"]
    assert "hotline-sounds:/var/lib/hotline/sounds:ro" in services["asterisk"]["volumes"]
    assert "hotline-sounds:/var/lib/hotline/sounds" in services["hotline"]["volumes"]
    assert set(services) >= {"asterisk", "hotline", "postgres", "prometheus", "grafana"}


def _families(tmp_path: Path) -> set[str]:
    """Every metric family of the real service's /metrics (the composition root's registry)."""
    hotline = Hotline(make_settings(tmp_path))
    try:
        text = generate_latest(hotline.registry).decode()
    finally:
        hotline.engine.dispose()
    return {family.name for family in text_string_to_metric_families(text)}


def _exprs(panel: dict[str, object]) -> list[str]:
    targets = panel.get("targets") or []
    return [t["expr"] for t in targets if isinstance(t, dict) and "expr" in t]  # type: ignore[misc]


def test_every_metric_the_dashboard_queries_exists(tmp_path: Path) -> None:
    dashboard = json.loads(
        (ROOT / "deploy" / "grafana" / "dashboards" / "hotline.json").read_text(encoding="utf-8")
    )
    exprs = [e for panel in dashboard["panels"] for e in _exprs(panel)]
    exprs += [v["query"] for v in dashboard.get("templating", {}).get("list", [])]
    used = {m for e in exprs for m in re.findall(r"\bhotline_[a-z_]+", e)}
    families = _families(tmp_path)
    missing = sorted(m for m in used if re.sub(r"_(total|bucket|sum|count)$", "", m) not in families)
    assert len(used) >= 15 and not missing, missing
    panels = " ".join(p["title"].lower() for p in dashboard["panels"])
    for figure in ("waiting", "longest", "service level", "abandoned", "topic", "operators", "ivr", "ami"):
        assert figure in panels, figure


def test_prometheus_scrapes_the_service_and_grafana_reads_prometheus() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    prom = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text(encoding="utf-8"))
    [job] = [j for j in prom["scrape_configs"] if j["job_name"] == "hotline"]
    assert job["metrics_path"] == "/metrics/" and job["static_configs"][0]["targets"] == ["hotline:8080"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in services["prometheus"]["volumes"]
    grafana = services["grafana"]["volumes"]
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in grafana
    assert "./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro" in grafana
    provider = yaml.safe_load(
        (ROOT / "deploy" / "grafana" / "provisioning" / "dashboards" / "hotline.yml").read_text(
            encoding="utf-8"
        )
    )
    assert provider["providers"][0]["options"]["path"] == "/var/lib/grafana/dashboards"
    source = yaml.safe_load(
        (ROOT / "deploy" / "grafana" / "provisioning" / "datasources" / "prometheus.yml").read_text(
            encoding="utf-8"
        )
    )["datasources"][0]
    assert (source["url"], source["uid"]) == ("http://prometheus:9090", "prometheus")


def test_compose_publishes_sip_rtp_and_https_only_and_every_secret_is_a_file() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    services = compose["services"]
    published = {name: s["ports"] for name, s in services.items() if s.get("ports")}
    assert published == {
        "asterisk": [
            "${HOTLINE_SIP_PORT:-5060}:5060/udp",
            "${HOTLINE_RTP_START:-10000}-${HOTLINE_RTP_END:-10999}:${HOTLINE_RTP_START:-10000}-${HOTLINE_RTP_END:-10999}/udp",
        ],
        "proxy": ["${HOTLINE_HTTPS_PORT:-443}:8443"],
    }
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    assert "PASSWORD:" not in text.replace("PASSWORD__FILE:", "").replace("PASSWORD_FILE:", "")
    assert all("file" in secret for secret in compose["secrets"].values())
    for name, service in services.items():
        needs = service.get("depends_on", {})
        assert all(
            c["condition"] in ("service_healthy", "service_completed_successfully") for c in needs.values()
        ), name
        built = service.get("build", {}).get("context")
        if name != "render-asterisk" and "healthcheck" not in service:
            dockerfile = service["build"].get("dockerfile", "Dockerfile")
            assert "HEALTHCHECK" in (ROOT / built / dockerfile).read_text(encoding="utf-8"), name


def test_images_run_unprivileged() -> None:
    for path in ("deploy/asterisk/Dockerfile", "deploy/hotline/Dockerfile", "deploy/proxy/Dockerfile"):
        lines = (ROOT / path).read_text(encoding="utf-8").splitlines()
        users = [line.split()[1] for line in lines if line.startswith("USER ")]
        assert users and users[-1] not in ("root", "0"), path
    hotline = (ROOT / "deploy" / "hotline" / "Dockerfile").read_text(encoding="utf-8")
    assert "espeak-ng" in hotline and "sox" in hotline
