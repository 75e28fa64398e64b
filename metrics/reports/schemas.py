"""Pydantic I/O of the reports and the wallboard."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from metrics.reports.service import Report, ReportRow, Totals
from metrics.reports.summaries import SummaryCounts


class SummaryValuePublic(BaseModel):
    field: str
    value: str  # a value's id, "yes"/"no" for a flag, "other" for the values under k merged
    calls: int


class SummariesPublic(BaseModel):
    """Calls per summary field and value, under the small-cell rule (never a text)."""

    k: int
    calls: int  # calls of the report with a summary
    values: list[SummaryValuePublic]
    suppressed: dict[str, int]  # values merged into "other"; "other" cells hidden

    @classmethod
    def of(cls, counts: SummaryCounts) -> SummariesPublic:
        return cls(
            k=counts.k,
            calls=counts.calls,
            values=[SummaryValuePublic.model_validate(v) for v in counts.values],
            suppressed={"merged": counts.merged, "hidden": counts.hidden},
        )


class FiguresPublic(BaseModel):
    """A report's figures, each named once for the JSON, the exports and the page (the
    definitions are in metrics/reports/service.py); durations in seconds, shares from 0 to 1."""

    offered: int
    answered: int
    abandoned: int
    short_abandoned: int
    answered_within_threshold: int
    answer_rate: float | None
    service_level: float | None
    abandonment: float | None
    asa_seconds: float | None
    aht_seconds: float | None
    longest_wait_seconds: float | None

    @classmethod
    def of(cls, t: Totals) -> FiguresPublic:
        return cls(
            offered=t.offered,
            answered=t.answered,
            abandoned=t.abandoned,
            short_abandoned=t.short_abandoned,
            answered_within_threshold=t.answered_within,
            answer_rate=t.answer_rate,
            service_level=t.service_level,
            abandonment=t.abandonment,
            asa_seconds=t.asa_seconds,
            aht_seconds=t.aht_seconds,
            longest_wait_seconds=t.longest_wait,
        )


class ReportRowPublic(FiguresPublic):
    interval_start: datetime  # in the report's time zone
    queue: str | None
    topic: str | None

    @classmethod
    def of_row(cls, row: ReportRow) -> ReportRowPublic:
        return cls(
            interval_start=row.start,
            queue=row.queue,
            topic=row.topic,
            **FiguresPublic.of(row.totals).model_dump(),
        )


class ReportPublic(BaseModel):
    start: datetime
    end: datetime
    interval: str
    timezone: str
    group_by: list[str]
    queues: list[str]
    topics: list[str]
    threshold_seconds: float | None  # None: each queue's own
    thresholds: dict[str, float]  # each queue's T as used
    targets: dict[str, float]  # each queue's target: the service level it aims at (0 to 1)
    short_abandon_seconds: float
    rows: list[ReportRowPublic]
    total: FiguresPublic
    summaries: SummariesPublic | None = None  # what the calls' after-call summaries say

    @classmethod
    def of(
        cls,
        report: Report,
        thresholds: dict[str, float],
        targets: dict[str, float],
        summaries: SummaryCounts | None = None,
    ) -> ReportPublic:
        q = report.query
        return cls(
            start=q.start,
            end=q.end,
            interval=q.interval.value,
            timezone=q.timezone,
            group_by=[d.value for d in q.group_by],
            queues=list(q.queues),
            topics=list(q.topics),
            threshold_seconds=q.threshold_seconds,
            thresholds=thresholds,
            targets=targets,
            short_abandon_seconds=q.short_abandon_seconds,
            rows=[ReportRowPublic.of_row(r) for r in report.rows],
            total=FiguresPublic.of(report.total),
            summaries=SummariesPublic.of(summaries) if summaries else None,
        )


# The columns of the CSV and XLSX exports: the rows' fields, by the names of the JSON.
EXPORT_COLUMNS: tuple[str, ...] = ("interval_start", "queue", "topic", *FiguresPublic.model_fields)
