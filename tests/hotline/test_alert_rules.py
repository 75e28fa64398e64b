"""The alert rules shipped for Prometheus (deploy/prometheus/alerts.yml): their own unit tests
pass under ``promtool test rules``, and every hotline metric they read exists."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import yaml

from tests.conftest import ROOT
from tests.hotline.test_deploy import _families

PROMETHEUS = ROOT / "deploy" / "prometheus"
PROMTOOL = ROOT / "scripts" / "promtool"  # the machine's, or Debian's unpacked once


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(PROMTOOL), *args], cwd=PROMETHEUS, capture_output=True, text=True, timeout=300, check=False
    )


def test_alert_rules_pass_their_unit_tests() -> None:
    checked = _promtool("check", "rules", "alerts.yml")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    tested = _promtool("test", "rules", "alerts.test.yml")
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_every_alert_has_a_unit_test_and_the_issue_list_is_covered() -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))
    alerts = {r["alert"] for group in rules["groups"] for r in group["rules"]}
    tests = yaml.safe_load((PROMETHEUS / "alerts.test.yml").read_text(encoding="utf-8"))
    firing = {
        case["alertname"]
        for test in tests["tests"]
        for case in test["alert_rule_test"]
        if case.get("exp_alerts")
    }
    assert alerts == firing
    for wanted in ("ServiceLevel", "NobodyLoggedIn", "Ami", "FastAgi", "RecordBacklog", "IvrFallbacks"):
        assert any(wanted in a for a in alerts), wanted
    prom = yaml.safe_load((PROMETHEUS / "prometheus.yml").read_text(encoding="utf-8"))
    assert prom["rule_files"] == ["alerts.yml"]


def test_every_metric_the_rules_read_exists(tmp_path: Path) -> None:
    rules = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text(encoding="utf-8"))
    exprs = [r["expr"] for group in rules["groups"] for r in group["rules"]]
    used = {m for e in exprs for m in re.findall(r"\bhotline_[a-z_]+", e)}
    families = _families(tmp_path)
    missing = sorted(m for m in used if re.sub(r"_total$", "", m) not in families)
    assert len(used) >= 9 and not missing, missing
