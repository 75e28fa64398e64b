"""The two kinds of metric families moved by calls (labelled counters, histograms with bucket
bounds that can be replaced), each keeping its exposition text until it moves.

Most series do not move between two scrapes (a scrape every 15 s, a few calls finishing in
between): each series keeps its lines, each family their join, until one of its series moves.
``collect`` still builds prometheus_client samples for any other reader (``generate_latest``, a
``name[]`` selection); exposition/writer.py is what /metrics serves.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client.core import HistogramMetricFamily, Metric

from exposition.writer import ExposedCollector, FamilyText, Format, go_float


class CounterFamily(ExposedCollector):
    """A labelled counter in a plain dict (prometheus_client's ``Counter`` builds every child's
    samples anew at each scrape); the exposition is the same ``_total`` lines."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str] = ()) -> None:
        self._text = FamilyText(name, documentation, "counter", labels)
        self._values: dict[tuple[str, ...], float] = {}
        self._lines: dict[tuple[str, ...], str] = {}  # per series, until it moves
        self._body: str | None = None  # every series' line in order, until one moves

    @property
    def name(self) -> str:
        return self._text.name

    @property
    def documentation(self) -> str:
        return self._text.documentation

    @property
    def labels(self) -> tuple[str, ...]:
        return self._text.labels

    def touch(self, *labels: str) -> None:
        """Show this series (at 0) before its first increment."""
        if labels not in self._values:
            self._check(labels)
            self._values[labels] = 0.0
            self._body = None

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        self.touch(*labels)
        self._values[labels] += amount
        self._lines.pop(labels, None)
        self._body = None

    def value(self, *labels: str) -> float:
        return self._values.get(labels, 0.0)

    def series(self) -> dict[tuple[str, ...], float]:
        return dict(self._values)

    def texts(self) -> Sequence[FamilyText]:
        return (self._text,)

    def collect(self) -> Iterator[Metric]:
        yield self._text.metric((labels, self._values[labels]) for labels in sorted(self._values))

    def exposition(self, fmt: Format) -> str:
        if self._body is None:
            self._body = "".join([self._line(labels) for labels in sorted(self._values)])
        return self._text.header(fmt) + self._body

    def _line(self, labels: tuple[str, ...]) -> str:
        line = self._lines.get(labels)
        if line is None:
            line = self._lines[labels] = self._text.lines([(labels, self._values[labels])])
        return line

    def _check(self, labels: tuple[str, ...]) -> None:
        if len(labels) != len(self.labels):
            raise ValueError(f"{self.name}: labels {self.labels} expected, got {len(labels)} values")


class Histogram(ExposedCollector):
    """A labelled histogram whose bucket bounds can be replaced (which resets it)."""

    def __init__(self, name: str, documentation: str, labels: Sequence[str], bounds: Iterable[float]) -> None:
        self._text = FamilyText(name, documentation, "histogram", labels)
        self._bounds: tuple[float, ...] = ()
        self._edges: list[str] = []
        self._series: dict[tuple[str, ...], tuple[list[int], list[float]]] = {}
        self._blocks: dict[tuple[str, ...], str] = {}  # per series, until it moves
        self._body: str | None = None
        self.set_bounds(bounds)

    @property
    def bounds(self) -> tuple[float, ...]:
        return self._bounds

    def set_bounds(self, bounds: Iterable[float]) -> None:
        wanted = tuple(sorted(set(bounds)))
        if wanted != self._bounds:
            self._bounds = wanted
            self._edges = [_le(b) for b in wanted] + ["+Inf"]
            self._series, self._blocks, self._body = {}, {}, None

    def observe(self, labels: tuple[str, ...], value: float) -> None:
        series = self._series.get(labels)
        if series is None:
            series = self._series[labels] = ([0] * (len(self._bounds) + 1), [0.0])
        counts, total = series
        counts[bisect_left(self._bounds, value)] += 1
        total[0] += value
        self._blocks.pop(labels, None)
        self._body = None

    def texts(self) -> Sequence[FamilyText]:
        return (self._text,)

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self._text.name, self._text.documentation, labels=self._text.labels)
        for labels in sorted(self._series):
            buckets, total = self._buckets(labels)
            family.add_metric(list(labels), buckets, total)
        yield family

    def exposition(self, fmt: Format) -> str:
        if self._body is None:
            self._body = "".join([self._block(labels) for labels in sorted(self._series)])
        return self._text.header(fmt) + self._body

    def _buckets(self, labels: tuple[str, ...]) -> tuple[list[tuple[str, float]], float]:
        counts, total = self._series[labels]
        running, buckets = 0, []
        for edge, count in zip(self._edges, counts, strict=True):
            running += count
            buckets.append((edge, float(running)))
        return buckets, total[0]

    def _block(self, labels: tuple[str, ...]) -> str:
        """One series' lines: its buckets, then ``_count`` and ``_sum`` (HistogramMetricFamily's order)."""
        block = self._blocks.get(labels)
        if block is None:
            buckets, total = self._buckets(labels)
            prefix = self._text.prefix
            lines = [f"{prefix(labels, '_bucket', edge)}{go_float(count)}\n" for edge, count in buckets]
            lines.append(f"{prefix(labels, '_count')}{go_float(buckets[-1][1])}\n")
            lines.append(f"{prefix(labels, '_sum')}{go_float(total)}\n")
            block = self._blocks[labels] = "".join(lines)
        return block


def _le(bound: float) -> str:
    return f"{bound:g}" if bound != int(bound) else f"{int(bound)}.0"
