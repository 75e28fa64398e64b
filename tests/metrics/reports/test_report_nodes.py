"""Reports and records per Asterisk node (the node a call came in on) and for the whole line."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

from sqlalchemy import Engine

from metrics.records.record import Outcome
from metrics.records.store import RecordStore
from metrics.reports.service import Interval, ReportQuery, ReportService
from tests.metrics.reports.test_service import LEVELS, T0, call, engine, store  # noqa: F401  (fixtures)


def two_nodes(store: RecordStore) -> None:  # noqa: F811
    at = [T0 + timedelta(minutes=m) for m in (1, 2, 3, 31)]
    store.save_many(
        [
            dataclasses.replace(call(at[0], "main", Outcome.ANSWERED, 5, talk_seconds=60), node="a"),
            dataclasses.replace(call(at[1], "main", Outcome.ABANDONED_IN_QUEUE, 30), node="a"),
            dataclasses.replace(call(at[2], "support-b", Outcome.ANSWERED, 12, talk_seconds=90), node="b"),
            dataclasses.replace(call(at[3], "main", Outcome.ANSWERED, 8, talk_seconds=30), node="b"),
        ]
    )


def test_a_report_of_one_node_counts_the_calls_that_came_in_there(store: RecordStore, engine: Engine) -> None:  # noqa: F811
    two_nodes(store)
    service = ReportService(engine, lambda: LEVELS)
    # Whole cells (an hour) and records (a part of one): the same answer either way.
    for start, end in (
        (T0, T0 + timedelta(hours=1)),
        (T0 + timedelta(minutes=1), T0 + timedelta(minutes=59)),
    ):
        line = service.report(ReportQuery(start, end, Interval.DAY)).total
        a = service.report(ReportQuery(start, end, Interval.DAY, nodes=("a",))).total
        b = service.report(ReportQuery(start, end, Interval.DAY, nodes=("b",))).total
        assert (line.offered, line.answered) == (4, 3)
        assert (a.offered, a.answered, a.abandoned) == (2, 1, 1)
        assert (b.offered, b.answered, b.abandoned) == (2, 2, 0)


def test_records_of_one_node(store: RecordStore) -> None:  # noqa: F811
    two_nodes(store)
    assert {r.node for r in store.list()} == {"a", "b"}
    assert [r.queue for r in store.list(node="b")] == ["support-b", "main"]
    assert store.list(node="c") == []
