"""hotline_switchboard_redirects on /metrics: one series per redirect in force, written as
prometheus_client writes it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics import exposition as openmetrics

from exposition.writer import Format, exposition
from ivr.switchboard_store import Redirect
from metrics.live.switchboard import SwitchboardCollector

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


def redirect(queue: str, target_queue: str | None, target_referral: str | None) -> Redirect:
    return Redirect(1, queue, target_queue, target_referral, "op-lead", NOW, NOW + timedelta(minutes=5))


def test_each_redirect_in_force_is_a_series() -> None:
    active: list[Redirect] = []
    collector = SwitchboardCollector(lambda: active)
    registry = CollectorRegistry()
    registry.register(collector)
    assert "hotline_switchboard_redirects{" not in generate_latest(registry).decode()
    active += [redirect("crisis", None, "crisis-team"), redirect("loss", "main", None)]
    text = generate_latest(registry).decode()
    assert 'hotline_switchboard_redirects{queue="crisis",target="crisis-team"} 1.0' in text
    assert 'hotline_switchboard_redirects{queue="loss",target="main"} 1.0' in text
    assert exposition(registry, Format.TEXT).decode() == text
    assert exposition(registry, Format.OPENMETRICS) == openmetrics.generate_latest(registry)  # type: ignore[no-untyped-call]
