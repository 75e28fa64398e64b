"""The cached collectors of exposition/families.py: the same exposition as prometheus_client's
own Counter, and lines that move as soon as their series does (no stale scrape)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client import metrics as client_metrics

from exposition.families import CounterFamily, Histogram
from exposition.writer import exposition


@pytest.fixture
def without_created() -> Iterator[None]:
    """prometheus_client's switch is process-wide: restore what it was."""
    before = client_metrics._use_created
    client_metrics._use_created = False
    yield
    client_metrics._use_created = before


def lines(registry: CollectorRegistry) -> list[str]:
    """The client's exposition, sorted; what /metrics serves (our own writer) must be the same."""
    text = generate_latest(registry).decode()
    assert exposition(registry).decode() == text
    return sorted(text.splitlines())


def test_counter_family_exposes_what_a_client_counter_does(without_created: None) -> None:
    ours, theirs = CollectorRegistry(), CollectorRegistry()
    family = CounterFamily("hotline_x", "Calls, by queue and topic", ("queue", "topic"))
    ours.register(family)
    counter = Counter("hotline_x", "Calls, by queue and topic", ["queue", "topic"], registry=theirs)
    family.touch("main", "none")
    counter.labels(queue="main", topic="none")
    for queue, topic in [("main", "crisis"), ("loss", 'a "quoted"\\topic'), ("main", "crisis")]:
        family.inc(queue, topic)
        counter.labels(queue=queue, topic=topic).inc()
    family.inc("main", "none", amount=2.5)
    counter.labels(queue="main", topic="none").inc(2.5)
    assert lines(ours) == lines(theirs)
    assert family.value("main", "crisis") == 2.0 and family.value("legal", "x") == 0.0


def test_an_unlabelled_counter_shows_zero_first(without_created: None) -> None:
    registry = CollectorRegistry()
    errors = CounterFamily("hotline_errors", "Errors")
    registry.register(errors)
    errors.touch()
    assert "hotline_errors_total 0.0" in lines(registry)
    errors.inc()
    assert "hotline_errors_total 1.0" in lines(registry)


def test_cached_samples_move_with_their_series() -> None:
    registry = CollectorRegistry()
    family = CounterFamily("hotline_y", "Y", ("queue",))
    registry.register(family)
    family.inc("main")
    assert 'hotline_y_total{queue="main"} 1.0' in lines(registry)
    family.inc("main")
    family.inc("crisis")
    got = lines(registry)
    assert 'hotline_y_total{queue="main"} 2.0' in got and 'hotline_y_total{queue="crisis"} 1.0' in got


def test_histogram_samples_move_and_a_new_bound_resets() -> None:
    registry = CollectorRegistry()
    wait = Histogram("hotline_w", "Waits", ["queue"], (10.0, 20.0))
    registry.register(wait)
    wait.observe(("main",), 5.0)
    assert 'hotline_w_bucket{le="10.0",queue="main"} 1.0' in lines(registry)
    wait.observe(("main",), 15.0)
    wait.observe(("loss",), 25.0)
    got = lines(registry)
    assert 'hotline_w_bucket{le="10.0",queue="main"} 1.0' in got
    assert 'hotline_w_bucket{le="20.0",queue="main"} 2.0' in got
    assert 'hotline_w_count{queue="main"} 2.0' in got and 'hotline_w_sum{queue="main"} 20.0' in got
    assert 'hotline_w_bucket{le="+Inf",queue="loss"} 1.0' in got
    wait.set_bounds((10.0, 17.0, 20.0))
    assert not [line for line in lines(registry) if line.startswith("hotline_w_")]
    wait.observe(("main",), 16.0)
    assert 'hotline_w_bucket{le="17.0",queue="main"} 1.0' in lines(registry)


def test_a_wrong_number_of_labels_is_refused() -> None:
    family = CounterFamily("hotline_z", "Z", ("queue", "topic"))
    with pytest.raises(ValueError, match=r"hotline_z: labels \('queue', 'topic'\) expected, got 1 values"):
        family.inc("main")
