"""The after-call summaries counted: the report's "summaries" section and the export's summary
columns, with the small-cell rule; never a text. SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from metrics.records.export import CallExporter
from metrics.records.record import Outcome
from metrics.records.store import RecordStore
from metrics.records.summary_store import Summary, SummaryStore
from metrics.reports.service import ReportQuery, ReportService
from tests.metrics.records.test_retention import call

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


def summarised(database: Engine, topic: str, fields: list[dict[str, Any]], at: datetime = T0) -> None:
    """Calls of ``topic`` taken at ``at``, one per summary's fields (each with a text too)."""
    records = [
        call(at + timedelta(seconds=i), Outcome.ANSWERED, topic=topic, queue=topic, operator="op-anna")
        for i in range(len(fields))
    ]
    RecordStore(database).save_many(records)
    store = SummaryStore(database)
    for record, values in zip(records, fields, strict=True):
        store.put(Summary(record.id, values, "op-anna", at, 1, texts={"note": "calm at the end"}))


def seed(database: Engine) -> None:
    """Crisis: 5 high-risk calls (one with a follow-up), 1 low; two with issues, one rare.
    Legal: 2 calls, low risk. Loss: 1 call without a summary."""
    crisis = [{"risk": "high", "issues": ["panic"]} for _ in range(3)]
    crisis += [{"risk": "high", "issues": ["panic", "self-harm"], "follow-up": True}, {"risk": "high"}]
    crisis += [{"risk": "low", "follow-up": False}]
    summarised(database, "crisis", crisis)
    summarised(database, "legal", [{"risk": "low"}, {"risk": "low"}])
    RecordStore(database).save(call(T0, Outcome.ANSWERED, topic="loss", queue="loss"))  # no summary


def test_the_report_counts_summary_values_with_the_small_cell_rule(database: Engine) -> None:
    seed(database)
    service = ReportService(database)
    query = ReportQuery(T0, T0 + timedelta(hours=1))
    counts = service.summaries(query, k=3)
    assert counts.calls == 8
    assert counts.values == [
        {"field": "issues", "value": "panic", "calls": 4},
        {"field": "risk", "value": "high", "calls": 5},
        {"field": "risk", "value": "low", "calls": 3},
    ]
    # follow-up: yes 1 and no 1, "other" 2 calls: hidden; issues: self-harm (1 call, also
    # counted under panic) merges into an "other" of 1 call: hidden, never the sum of mentions
    assert (counts.merged, counts.hidden) == (3, 2)
    legal = service.summaries(ReportQuery(T0, T0 + timedelta(hours=1), topics=("legal",)), k=2)
    assert legal.values == [{"field": "risk", "value": "low", "calls": 2}]
    assert service.summaries(ReportQuery(T0 + timedelta(hours=1), T0 + timedelta(hours=2)), k=1).calls == 0
    everything = service.summaries(query, k=1)
    assert "note" not in {v["field"] for v in everything.values}
    assert ("follow-up", "yes") in {(v["field"], v["value"]) for v in everything.values}


def test_the_export_counts_summary_values_per_row(database: Engine) -> None:
    seed(database)
    export = CallExporter(database, k=3, clock=lambda: T0 + timedelta(hours=1)).export(
        T0, T0 + timedelta(hours=1)
    )
    rows = {r["topic"]: r for r in export.rows}
    assert set(rows) == {"crisis", "other"}  # legal (2 calls) and loss (1): "other"
    crisis = rows["crisis"]
    assert (crisis["calls"], crisis["summary.risk.high"], crisis["summary.issues.panic"]) == (6, 5, 4)
    # under k in every row: risk low (1 crisis call, 2 in "other"), self-harm, follow-up yes/no
    assert export.summary_columns == ("summary.issues.panic", "summary.risk.high")
    assert export.summary_hidden == 5
    assert not [
        n for row in export.rows for n in row if n.startswith("summary.") and n not in export.summary_columns
    ]
    assert (rows["other"]["calls"], rows["other"]["summary.risk.high"]) == (3, 0)
    parsed = list(csv.DictReader(io.StringIO(export.as_csv())))
    assert [r["summary.risk.high"] for r in parsed] == ["5", "0"]
    assert "calm" not in export.as_csv() and "calm" not in str(export.as_json())
