"""Switchboarding on /metrics (ivr/switchboard.py), read at scrape time from memory:
``hotline_switchboard_redirects{queue,target}`` is 1 for each queue whose new callers a shift lead
has sent elsewhere right now (``target``: the queue, or the partner line's referral id); a queue
without a redirect has no series."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence

from prometheus_client.core import Metric

from exposition.writer import ExposedCollector, FamilyText, Format
from ivr.switchboard_store import Redirect


class SwitchboardCollector(ExposedCollector):
    def __init__(self, active: Callable[[], Iterable[Redirect]]) -> None:
        self._active = active
        self._redirects = FamilyText(
            "hotline_switchboard_redirects",
            "Queues whose new callers go elsewhere now, by queue and target (1 each)",
            "gauge",
            ("queue", "target"),
        )

    def texts(self) -> Sequence[FamilyText]:
        return (self._redirects,)

    def collect(self) -> Iterator[Metric]:
        yield self._redirects.metric(self._series())

    def exposition(self, fmt: Format) -> str:
        return self._redirects.header(fmt) + self._redirects.lines(self._series())

    def _series(self) -> list[tuple[tuple[str, ...], float]]:
        return [((r.queue, r.target), 1.0) for r in self._active()]
