"""The test oracle of the reports: the same report computed record by record in Python, which
the SQL over cells and records must equal."""

from __future__ import annotations

import math
from collections.abc import Iterable
from datetime import datetime

from metrics.records.levels import ServiceLevels
from metrics.records.record import CallRecord, Outcome, is_offered
from metrics.reports.calendar import bucket_start, utc_offset
from metrics.reports.service import (
    _DAY,
    _WIDTH,
    Dimension,
    Interval,
    ReportQuery,
    Totals,
    _merge,
    _roll_up,
    zone,
)


def rows_from_records(
    records: Iterable[CallRecord],
    query: ReportQuery,
    levels: ServiceLevels,
) -> dict[tuple[datetime, str | None, str | None], Totals]:
    tz = zone(query.timezone)
    width = _WIDTH.get(query.interval, _DAY)
    cells: dict[tuple[datetime, str | None, str | None], Totals] = {}
    for r in records:
        if not (query.start <= r.started_at < query.end) or not is_offered(r):
            continue
        if (query.queues and r.queue not in query.queues) or (query.topics and r.topic not in query.topics):
            continue
        offset = utc_offset(r.started_at, tz)
        bucket = math.floor((math.floor(r.started_at.timestamp()) + offset) / width)
        key = (
            bucket_start(bucket, width, tz),
            r.queue if Dimension.QUEUE in query.group_by else None,
            r.topic if Dimension.TOPIC in query.group_by else None,
        )
        t = query.threshold_seconds
        threshold = t if t is not None else levels.threshold(r.queue or "")
        _merge(cells, key, _record_totals(r, threshold, query.short_abandon_seconds))
    if query.interval in (Interval.WEEK, Interval.MONTH):
        cells = _roll_up(cells, query.interval, tz)
    return cells


def _record_totals(r: CallRecord, threshold: float, short_seconds: float) -> Totals:
    wait = r.wait_seconds or 0.0
    answered = r.outcome is Outcome.ANSWERED
    abandoned = r.outcome is Outcome.ABANDONED_IN_QUEUE
    short = abandoned and short_seconds > 0 and wait < short_seconds
    handled = answered and r.talk_seconds is not None
    return Totals(
        offered=0 if short else 1,
        answered=int(answered),
        abandoned=int(abandoned and not short),
        short_abandoned=int(short),
        answered_within=int(answered and wait <= threshold),
        answer_wait_sum=wait if answered else 0.0,
        handle_sum=(r.talk_seconds or 0.0) + (r.wrapup_seconds or 0.0) if handled else 0.0,
        handled=int(handled),
        longest_wait=r.wait_seconds,
    )
