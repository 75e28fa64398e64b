"""Refused connections on /metrics: what the sources say at each scrape, by port and reason,
written byte for byte as prometheus_client writes it."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.parser import text_string_to_metric_families

from exposition.writer import Format, exposition
from metrics.live.refusals import RefusalCollector, Refusals


def scrape(refusals: Refusals) -> dict[tuple[str, ...], float]:
    registry = CollectorRegistry()
    registry.register(RefusalCollector(lambda: refusals))
    text = exposition(registry, Format.TEXT).decode()
    assert text == generate_latest(registry).decode()
    assert exposition(registry, Format.OPENMETRICS) == openmetrics.generate_latest(registry)  # type: ignore[no-untyped-call]
    return {
        (s.name, s.labels["port"], s.labels["reason"]): s.value
        for f in text_string_to_metric_families(text)
        for s in f.samples
    }


def test_each_port_and_reason_is_a_series() -> None:
    got = scrape({("http", "per_peer"): 1930, ("agi", "secret"): 2, ("http", "header_timeout"): 0})
    assert got == {
        ("hotline_refused_connections_total", "agi", "secret"): 2.0,
        ("hotline_refused_connections_total", "http", "header_timeout"): 0.0,
        ("hotline_refused_connections_total", "http", "per_peer"): 1930.0,
    }


def test_no_refusal_source_yet_is_an_empty_family() -> None:
    assert scrape({}) == {}
