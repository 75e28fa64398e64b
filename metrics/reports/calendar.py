"""Local time for reports: where a zone's UTC offset changes inside a range, and the local
wall-clock start of an interval counted from the local epoch."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo


def bucket_start(bucket: Any, width: int, tz: ZoneInfo) -> datetime:
    """The interval's local wall-clock start (bucket counts from the local epoch), so the
    rows of one local interval from two offsets (an autumn change) get the same key."""
    wall = datetime.fromtimestamp(int(bucket) * width, UTC)
    return wall.replace(tzinfo=tz)


def offset_segments(start: datetime, end: datetime, tz: ZoneInfo) -> list[tuple[datetime, datetime, int]]:
    """[start, end) cut where the zone's UTC offset changes: (from, to, offset seconds)."""
    segments: list[tuple[datetime, datetime, int]] = []
    seg_start, offset = start, utc_offset(start, tz)
    probe = start
    while probe < end:
        step = min(probe + timedelta(days=1), end)
        if utc_offset(step, tz) != offset and step < end:
            change = _find_change(probe, step, offset, tz)
            segments.append((seg_start, change, offset))
            seg_start, offset = change, utc_offset(change, tz)
        probe = step
    segments.append((seg_start, end, offset))
    return segments


def utc_offset(at: datetime, tz: ZoneInfo) -> int:
    delta = at.astimezone(tz).utcoffset()
    return int(delta.total_seconds()) if delta is not None else 0


def _find_change(low: datetime, high: datetime, offset: int, tz: ZoneInfo) -> datetime:
    """The first instant in (low, high] whose offset differs, to the second."""
    while (high - low) > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            break
        if utc_offset(middle, tz) == offset:
            low = middle
        else:
            high = middle
    return high
