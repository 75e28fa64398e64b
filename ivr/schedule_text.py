"""Opening hours in words, for administrators and operators (e.g. "Mon-Fri 09:00-21:00")."""

from __future__ import annotations

from ivr.schedule import EN_DASH, WEEKDAYS, Schedule, TimeRange, Weekday


def describe(schedule: Schedule) -> str:
    """A one-line summary such as 'Mon-Fri 09:00-21:00, Sat 10:00-16:00 (Europe/Moscow); 2
    holidays' (written with en dashes)."""
    hours = "24/7" if schedule.always_open else _weekly_text(schedule.weekly)
    notes = _notes(schedule)
    return f"{hours} ({schedule.timezone})" + (f"; {notes}" if notes else "")


def _runs(weekly: dict[Weekday, list[TimeRange]]) -> list[tuple[int, int, list[TimeRange]]]:
    """Consecutive days with the same hours, as (first day index, last day index, hours)."""
    runs: list[tuple[int, int, list[TimeRange]]] = []
    for index, day in enumerate(WEEKDAYS):
        hours = weekly.get(day, [])
        if hours and runs and runs[-1][1] == index - 1 and runs[-1][2] == hours:
            runs[-1] = (runs[-1][0], index, hours)
        elif hours:
            runs.append((index, index, hours))
    return runs


def _weekly_text(weekly: dict[Weekday, list[TimeRange]]) -> str:
    runs = _runs(weekly)
    if not runs:
        return "Closed"
    texts = [" & ".join(r.text(EN_DASH) for r in hours) for _, _, hours in runs]
    if runs[0][:2] == (0, 6):
        return f"Daily {texts[0]}"
    days = [_day_label(first, last) for first, last, _ in runs]
    return ", ".join(f"{label} {text}" for label, text in zip(days, texts, strict=True))


def _day_label(first: int, last: int) -> str:
    label = WEEKDAYS[first].capitalize()
    return label if first == last else f"{label}{EN_DASH}{WEEKDAYS[last].capitalize()}"


def _count(number: int, noun: str) -> str:
    return f"{number} {noun}{'' if number == 1 else 's'}"


def _notes(schedule: Schedule) -> str:
    if schedule.always_open:
        closed = sum(1 for e in schedule.exceptions if e.closed)
        return f"closed on {_count(closed, 'day')}" if closed else ""
    counts = [(len(schedule.holidays), "holiday"), (len(schedule.exceptions), "special day")]
    return ", ".join(_count(number, noun) for number, noun in counts if number)
