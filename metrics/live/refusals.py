"""Connections the service refused, on /metrics, read at scrape time (no I/O):
``hotline_refused_connections_total{port, reason}``: ``port`` is ``agi`` (FastAGI: a peer not
allowed, a missing or wrong secret) or ``http`` (the front door's caps, a request head that
did not arrive in time, an accept that failed for want of descriptors). A flood shows here,
not in the log, which says it once per interval (core/refusals.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from prometheus_client.core import Metric

from exposition.writer import ExposedCollector, FamilyText, Format

Refusals = Mapping[tuple[str, str], int]  # (port, reason) -> refused so far


class RefusalCollector(ExposedCollector):
    def __init__(self, refusals: Callable[[], Refusals]) -> None:
        self._refusals = refusals
        self._text = FamilyText(
            "hotline_refused_connections",
            "Connections refused, by port and reason",
            "counter",
            ("port", "reason"),
        )

    def texts(self) -> Sequence[FamilyText]:
        return (self._text,)

    def collect(self) -> Iterator[Metric]:
        yield self._text.metric(self._series())

    def exposition(self, fmt: Format) -> str:
        return self._text.header(fmt) + self._text.lines(self._series())

    def _series(self) -> list[tuple[tuple[str, ...], float]]:
        return [((port, reason), float(n)) for (port, reason), n in sorted(self._refusals().items())]
