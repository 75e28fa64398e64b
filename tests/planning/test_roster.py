"""Rosters from CP-SAT, every rule checked again on the result from the templates' definitions."""

from __future__ import annotations

import itertools
from collections import defaultdict
from datetime import date, timedelta

import numpy as np
import pytest

from planning.roster import (
    Break,
    Operator,
    Progress,
    Roster,
    RosterError,
    RosterProblem,
    Rules,
    ShiftTemplate,
    Window,
    solve,
)

START = date(2026, 11, 23)  # a Monday
STEP = 60


def template(name: str, hour: int, hours: int, break_at: int | None = None) -> ShiftTemplate:
    breaks = (Break(break_at * 60, 60),) if break_at is not None else ()
    return ShiftTemplate(name, hour * 60, hours * 60, breaks)


TEMPLATES = (
    template("early", 6, 8, 4),
    template("day", 9, 8, 4),
    template("late", 14, 8, 4),
    template("night", 22, 8),
)


def requirement(days: int) -> np.ndarray:
    hours = np.arange(days * 24) % 24
    need = np.where((hours >= 8) & (hours < 22), 3, 1)
    need = np.where((hours >= 18) & (hours < 22), 4, need)
    return need.astype(np.int64)


def covered(t: ShiftTemplate, day: int, size: int) -> list[int]:
    """Hours this shift fully works, recomputed minute by minute from the template."""
    off = {b.offset + m for b in t.breaks for m in range(b.minutes)}
    out = []
    for h in range(t.minutes // 60):
        if not any(h * 60 + m in off for m in range(60)):
            index = (day * 1440 + t.start) // 60 + h
            if index < size:
                out.append(index)
    return out


def assert_all_rules_hold(problem: RosterProblem, roster: Roster) -> None:
    by_name = {t.name: t for t in problem.templates}
    operators = {o.id: o for o in problem.operators}
    scheduled = np.zeros(problem.required.size, dtype=np.int64)
    shifts: dict[str, list[tuple[int, int, ShiftTemplate, date]]] = defaultdict(list)
    for a in roster.assignments:
        t = by_name[a.template]
        offset = (a.day - problem.start).days
        assert a.start == offset * 1440 + t.start
        scheduled[covered(t, offset, problem.required.size)] += 1
        shifts[a.operator].append((a.start, a.start + t.minutes, t, a.day))
    assert (scheduled == roster.scheduled).all()
    assert (roster.under == np.maximum(problem.required - scheduled, 0)).all()
    rules = problem.rules
    for name, own in shifts.items():
        op = operators[name]
        own.sort(key=lambda s: s[0])
        for (_, end, _, _), (start, _, _, _) in itertools.pairwise(own):
            assert start - end >= rules.min_rest_hours * 60, (name, "rest")
        for _, _, t, day in own:
            assert day not in op.days_off, (name, "day off")
            if op.available is not None:
                assert any(
                    w.weekday == day.weekday()
                    and w.start <= t.start
                    and t.start + t.minutes <= (w.end if w.end > w.start else w.end + 1440)
                    for w in op.available
                ), (name, "availability")
        limit = min(op.max_hours_week or rules.max_hours_week, rules.max_hours_week)
        for week in range(0, problem.days, 7):
            worked = sum(t.worked for s, _, t, _ in own if week * 1440 <= s < (week + 7) * 1440)
            assert worked <= limit * 60, (name, "hours")
        nights = {(day - problem.start).days for _, _, t, day in own if t.name == "night"}
        for first in range(problem.days):
            assert (
                len(nights & set(range(first, first + rules.max_nights_in_row + 1)))
                <= rules.max_nights_in_row
            )


def test_a_two_week_roster_keeps_every_rule() -> None:
    weekdays_daytime = tuple(Window(d, 6 * 60, 22 * 60) for d in range(5))
    operators = (
        Operator("op-anna", max_hours_week=24),
        Operator("op-boris", available=weekdays_daytime),
        Operator("op-vera", days_off=frozenset({START + timedelta(days=d) for d in (2, 3, 9)})),
        *(Operator(f"op-{i}") for i in range(5)),
    )
    problem = RosterProblem(
        START, 14, STEP, requirement(14), TEMPLATES, operators, Rules(40, 11, max_nights_in_row=2)
    )
    roster = solve(problem, time_limit=10)
    assert roster.status in {"OPTIMAL", "FEASIBLE"}
    assert roster.assignments
    assert_all_rules_hold(problem, roster)
    # the rules bind: 8 operators at 40 h cannot cover 14 days of this requirement
    assert roster.under.sum() > 0
    assert {a.operator for a in roster.assignments} >= {"op-anna", "op-boris", "op-vera"}


def test_fewest_hours_when_the_requirement_can_be_met() -> None:
    need = np.zeros(7 * 24, dtype=np.int64)
    for d in range(7):
        need[d * 24 + 9 : d * 24 + 13] = 1  # 09:00-13:00 every day
    templates = (template("long", 6, 12), template("short", 9, 4))
    operators = tuple(Operator(f"op-{i}") for i in range(3))
    problem = RosterProblem(START, 7, STEP, need, templates, operators, Rules(40, 11, 3))
    roster = solve(problem, time_limit=20)
    assert roster.optimal
    assert roster.under.sum() == 0
    assert {a.template for a in roster.assignments} == {"short"}
    assert sum(a.worked for a in roster.assignments) == 7 * 4 * 60
    assert_all_rules_hold(problem, roster)


def test_progress_is_reported_for_each_better_roster() -> None:
    seen: list[Progress] = []
    problem = RosterProblem(
        START, 7, STEP, requirement(7), TEMPLATES, tuple(Operator(f"op-{i}") for i in range(5))
    )
    roster = solve(problem, time_limit=5, progress=seen.append)
    assert seen
    assert seen[-1].under == roster.under.sum()
    assert [p.solutions for p in seen] == list(range(1, len(seen) + 1))


@pytest.mark.parametrize(
    ("templates", "where"),
    [
        ((ShiftTemplate("odd", 6 * 60 + 15, 480),), "templates.0.start"),
        ((ShiftTemplate("odd", 6 * 60, 450),), "templates.0.minutes"),
        ((ShiftTemplate("odd", 6 * 60, 480, (Break(450, 60),)),), "templates.0.breaks.0"),
        ((), "templates"),
    ],
)
def test_shifts_off_the_grid_are_refused_with_the_field(
    templates: tuple[ShiftTemplate, ...], where: str
) -> None:
    problem = RosterProblem(START, 7, STEP, requirement(7), templates, (Operator("op-a"),))
    with pytest.raises(RosterError) as caught:
        solve(problem)
    assert caught.value.where == where
