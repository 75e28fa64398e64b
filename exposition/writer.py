"""The /metrics exposition, our own collectors writing their text themselves.

prometheus_client's ``generate_latest`` builds a ``Sample`` per series and formats each one
generically (sort and escape its labels, format its value) at every scrape; at 50 queues and 500
operators that was most of the scrape. An ``ExposedCollector`` keeps its lines instead: each
series' prefix (name and labels, escaped and sorted once) and, for the families moved only by
finished calls, the whole text until the next change. Any other collector in the registry is
still written by prometheus_client. Headers (``# HELP``, ``# TYPE``) are prometheus_client's own,
written once per family; tests/metrics/live/test_exposition.py checks the whole text against
``generate_latest`` for the same state.

Content negotiation is prometheus_client's (``choose_encoder``): Prometheus asks for OpenMetrics
first and gets it, any other client the text format. The body is never compressed: Prometheus
scrapes over the local network, where gzip only costs the event loop time (gzip at level 9 took
longer than the whole exposition).
"""

from __future__ import annotations

import enum
from abc import abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Literal, NamedTuple
from urllib.parse import parse_qs

from prometheus_client import CollectorRegistry, generate_latest, make_asgi_app
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.exposition import choose_encoder
from prometheus_client.openmetrics import exposition as openmetrics
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString
from starlette.types import ASGIApp, Receive, Scope, Send

Kind = Literal["counter", "gauge", "histogram"]
go_float: Callable[[float], str] = floatToGoString  # the sample value as prometheus_client writes it
OPENMETRICS_END = "# EOF\n"
FAST_ESCAPING = ("escaping=underscores", "escaping=allow-utf-8")  # no change to our legacy names


class Format(enum.Enum):
    TEXT = "text"  # text/plain 0.0.4 or 1.0.0 (the same lines for our names)
    OPENMETRICS = "openmetrics"


class ExposedCollector(Collector):
    """A collector that writes its own exposition: the lines of every family it yields, in the
    order ``collect`` yields them, each exactly as ``generate_latest`` would write them."""

    @abstractmethod
    def exposition(self, fmt: Format) -> str: ...

    @abstractmethod
    def texts(self) -> Sequence[FamilyText]:
        """Every family this collector writes, in order."""

    def describe(self) -> Iterator[Metric]:
        """Empty families: the registry refuses a name twice and can select by name (``name[]``)."""
        for text in self.texts():
            yield text.family()


class FamilyText:
    """One family's fixed pieces: its header in each format and each series' line prefix."""

    def __init__(self, name: str, documentation: str, kind: Kind, labels: Sequence[str] = ()) -> None:
        self.name, self.documentation, self.kind, self.labels = name, documentation, kind, tuple(labels)
        empty = self.family()
        self._headers = {
            Format.TEXT: generate_latest(_Only(empty)).decode(),
            Format.OPENMETRICS: _openmetrics(_Only(empty)).decode().removesuffix(OPENMETRICS_END),
        }
        self._prefixes: dict[tuple[str, tuple[str, ...]], str] = {}

    def family(self) -> Metric:
        """An empty prometheus_client family of this name, kind and labels."""
        if self.kind == "histogram":
            return HistogramMetricFamily(self.name, self.documentation, labels=self.labels)
        return self.metric(())

    def metric(self, series: Iterable[tuple[tuple[str, ...], float]]) -> Metric:
        """A counter or gauge family of prometheus_client holding ``series``."""
        kind = CounterMetricFamily if self.kind == "counter" else GaugeMetricFamily
        family = kind(self.name, self.documentation, labels=self.labels)
        for values, value in series:
            family.add_metric(values, value)
        return family

    def header(self, fmt: Format) -> str:
        return self._headers[fmt]

    def prefix(self, values: tuple[str, ...], suffix: str = "", le: str | None = None) -> str:
        """``name_suffix{label="value",...} `` with the labels sorted by name (``le`` among them)."""
        key = (suffix if le is None else f"{suffix} {le}", values)
        known = self._prefixes.get(key)
        if known is None:
            pairs = list(zip(self.labels, values, strict=True))
            if le is not None:
                pairs.append(("le", le))
            labels = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(pairs))
            known = self._prefixes[key] = (
                f"{self.name}{suffix}{{{labels}}} " if labels else f"{self.name}{suffix} "
            )
        return known

    def lines(self, series: Iterable[tuple[tuple[str, ...], float]]) -> str:
        """The sample lines of a counter's or gauge's (label values, value) pairs, in that order."""
        prefix, suffix = self.prefix, "_total" if self.kind == "counter" else ""
        return "".join([f"{prefix(values, suffix)}{go_float(value)}\n" for values, value in series])


class _Only(Collector):
    def __init__(self, *metrics: Metric) -> None:
        self._metrics = metrics

    def collect(self) -> Iterator[Metric]:
        yield from self._metrics


def _escape(value: str) -> str:
    """A label value as the exposition formats escape it (backslash, newline, double quote)."""
    return value.replace("\\", r"\\").replace("\n", r"\n").replace('"', r"\"")


def _openmetrics(collector: Collector) -> bytes:
    text: bytes = openmetrics.generate_latest(collector)  # type: ignore[no-untyped-call]
    return text


class Negotiated(NamedTuple):
    fmt: Format | None  # None: prometheus_client writes it all
    content_type: str
    encoder: Callable[[Collector], bytes]  # prometheus_client's, for any collector not ours


def negotiate(accept: str) -> Negotiated:
    """What prometheus_client would answer ``accept`` with, and whether our collectors can
    write it: not when its escaping would rename our metrics (dots, values)."""
    encoder, content_type = choose_encoder(accept)
    if "escaping=" in content_type and not content_type.endswith(FAST_ESCAPING):
        return Negotiated(None, content_type, encoder)
    if content_type.startswith("application/openmetrics-text"):
        return Negotiated(Format.OPENMETRICS, content_type, encoder)
    return Negotiated(Format.TEXT, content_type, encoder)


def exposition(
    registry: CollectorRegistry,
    fmt: Format = Format.TEXT,
    encoder: Callable[[Collector], bytes] | None = None,
) -> bytes:
    """What ``encoder`` (by default ``generate_latest`` of ``fmt``) writes for ``registry``, our
    collectors writing their own lines, any other written by ``encoder``."""
    encoder = encoder or (generate_latest if fmt is Format.TEXT else _openmetrics)
    if registry.get_target_info():
        return encoder(registry)
    parts = []
    for collector in list(registry._collector_to_names):  # no public list of its collectors
        if isinstance(collector, ExposedCollector):
            parts.append(collector.exposition(fmt))
        else:
            parts.append(encoder(collector).decode().removesuffix(OPENMETRICS_END))
    if fmt is Format.OPENMETRICS:
        parts.append(OPENMETRICS_END)
    return "".join(parts).encode()


def metrics_app(registry: CollectorRegistry) -> ASGIApp:
    """The /metrics ASGI app: ``make_asgi_app`` without compression, written by ``exposition``
    (a ``name[]`` selection or an unusual escaping is left to prometheus_client)."""
    generic = make_asgi_app(registry, disable_compression=True)

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        accept = ",".join(v.decode() for k, v in scope.get("headers", ()) if k.lower() == b"accept")
        fmt, content_type, encoder = negotiate(accept)
        if fmt is None or "name[]" in parse_qs(scope.get("query_string", b"").decode()):
            await generic(scope, receive, send)
            return
        body = exposition(registry, fmt, encoder)
        if (await receive()).get("type") == "http.request":
            headers = [(b"content-type", content_type.encode())]
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await send({"type": "http.response.body", "body": body})

    return app
