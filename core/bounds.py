"""Bounds on what a client may send: times and days inside a calendar the service can compute
with (no overflow near ``datetime.min``/``max`` once a time zone or an interval is applied),
offsets and counts a database accepts. Used as pydantic/FastAPI annotations, so a value out of
bounds is a 422 that names its parameter."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import AfterValidator

FIRST_YEAR = 1971
LAST_YEAR = 2199
MAX_OFFSET = 10**9  # rows skipped by a listing
MAX_ID = 2**31 - 1  # a row number every database stores
MAX_TEXT = 10_000  # characters of a free-text parameter


def _day(value: date) -> date:
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise ValueError(f"must lie between the years {FIRST_YEAR} and {LAST_YEAR}")
    return value


def _instant(value: datetime) -> datetime:
    _day(value.date())
    return value


Instant = Annotated[datetime, AfterValidator(_instant)]
"""A time within the bounds (naive or with any offset)."""
Day = Annotated[date, AfterValidator(_day)]
"""A day within the bounds."""
