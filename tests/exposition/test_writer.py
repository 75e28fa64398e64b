"""The exposition writer's content negotiation is prometheus_client's own."""

from __future__ import annotations

from exposition.writer import Format, negotiate

PROMETHEUS_ACCEPT = (
    "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.6,"
    "application/openmetrics-text;version=0.0.1;q=0.5,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.4,"
    "text/plain;version=0.0.4;q=0.3,*/*;q=0.2"
)


def test_negotiation_is_prometheus_clients() -> None:
    assert negotiate(PROMETHEUS_ACCEPT)[:2] == (
        Format.OPENMETRICS,
        "application/openmetrics-text; version=1.0.0; charset=utf-8; escaping=allow-utf-8",
    )
    assert negotiate("")[:2] == (Format.TEXT, "text/plain; version=0.0.4; charset=utf-8")
    assert negotiate("text/plain;version=1.0.0;escaping=underscores")[0] is Format.TEXT
    assert negotiate("text/plain;version=1.0.0;escaping=dots")[0] is None  # renames: the client's
