"""Rosters with OR-Tools CP-SAT: which operator works which shift on which day.

One boolean per (operator, day, shift template) the operator is available for. Rules:
working hours per calendar week of the horizon at most the operator's (or the rules') maximum;
between the end of one shift and the start of the next at least the minimum rest (shifts whose
"shift + rest" spans overlap are pairwise exclusive: one at-most-one per overlap clique);
at most ``max_nights_in_row`` night shifts (any work between 00:00 and 06:00) on consecutive
days. Coverage per interval counts who works the whole interval (breaks excluded); the
objective is the least under-coverage first (weighted above every possible hour), then the
fewest working hours.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property

import numpy as np
import numpy.typing as npt
from ortools.sat.python import cp_model

Ints = npt.NDArray[np.int64]
NIGHT_END = 6 * 60  # work before 06:00 makes a night shift


class RosterError(ValueError):
    """A roster problem that cannot be set up; ``where`` names the field."""

    error_id = "roster_invalid"

    def __init__(self, where: str, problem: str) -> None:
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem


@dataclass(frozen=True)
class Break:
    offset: int  # minutes after the shift's start
    minutes: int


@dataclass(frozen=True)
class ShiftTemplate:
    name: str
    start: int  # minute of the day
    minutes: int  # length, breaks included
    breaks: tuple[Break, ...] = ()

    @cached_property
    def worked(self) -> int:
        return self.minutes - sum(b.minutes for b in self.breaks)

    @cached_property
    def night(self) -> bool:
        return any((self.start + m) % 1440 < NIGHT_END for m in self.working_minutes())

    def working_minutes(self) -> list[int]:
        """Minutes after the start that are worked (on the 1-minute grid)."""
        off = {b.offset + i for b in self.breaks for i in range(b.minutes)}
        return [m for m in range(self.minutes) if m not in off]


@dataclass(frozen=True)
class Window:
    weekday: int  # 0 = Monday
    start: int  # minute of the day
    end: int  # minute of the day; <= start: the next day


@dataclass(frozen=True)
class Operator:
    id: str
    max_hours_week: float | None = None  # None: the rules' maximum
    available: tuple[Window, ...] | None = None  # None: any time
    days_off: frozenset[date] = frozenset()


@dataclass(frozen=True)
class Rules:
    max_hours_week: float = 40.0
    min_rest_hours: float = 11.0
    max_nights_in_row: int = 3


@dataclass(frozen=True)
class RosterProblem:
    start: date
    days: int
    minutes: int  # interval length of ``required``
    required: Ints  # positions per interval, days x (1440 / minutes)
    templates: tuple[ShiftTemplate, ...]
    operators: tuple[Operator, ...]
    rules: Rules = field(default_factory=Rules)


@dataclass(frozen=True)
class Assignment:
    operator: str
    day: date
    template: str
    start: int  # minutes from the horizon's start
    minutes: int
    worked: int


@dataclass(frozen=True)
class Progress:
    seconds: float
    solutions: int
    under: int  # interval-positions left uncovered
    hours: float
    bound: float  # best bound on the objective


@dataclass(frozen=True)
class Roster:
    status: str  # OPTIMAL, FEASIBLE, INFEASIBLE, UNKNOWN
    assignments: tuple[Assignment, ...]
    required: Ints
    scheduled: Ints
    seconds: float
    optimal: bool

    @property
    def under(self) -> Ints:
        return np.asarray(np.maximum(self.required - self.scheduled, 0), dtype=np.int64)


def check(problem: RosterProblem) -> None:
    """Refuse what the solver cannot honour: shifts and breaks off the interval grid."""
    step = problem.minutes
    if problem.required.size != problem.days * (1440 // step):
        raise RosterError("required", f"needs {problem.days * (1440 // step)} intervals")
    if not problem.templates:
        raise RosterError("templates", "at least one shift template is needed")
    for i, t in enumerate(problem.templates):
        for name, value in (("start", t.start), ("minutes", t.minutes)):
            if value % step:
                raise RosterError(f"templates.{i}.{name}", f"{value} is not on the {step}-minute grid")
        for j, b in enumerate(t.breaks):
            if b.offset % step or b.minutes % step or b.offset + b.minutes > t.minutes or b.offset < 0:
                raise RosterError(f"templates.{i}.breaks.{j}", "breaks lie inside the shift, on the grid")


Candidate = tuple[int, int, int, int]  # day, template index, absolute start, absolute end (minutes)


def _available(operator: Operator, day: date, template: ShiftTemplate) -> bool:
    if day in operator.days_off:
        return False
    if operator.available is None:
        return True
    end = template.start + template.minutes
    for w in operator.available:
        w_end = w.end if w.end > w.start else w.end + 1440
        if w.weekday == day.weekday() and w.start <= template.start and end <= w_end:
            return True
    return False


def _candidates(problem: RosterProblem, operator: Operator) -> list[Candidate]:
    out = []
    for d in range(problem.days):
        day = problem.start + timedelta(days=d)
        for k, t in enumerate(problem.templates):
            if _available(operator, day, t):
                start = d * 1440 + t.start
                out.append((d, k, start, start + t.minutes))
    return sorted(out, key=lambda c: c[2])


def _cover(problem: RosterProblem, template: ShiftTemplate, day: int) -> list[int]:
    """Intervals of the horizon that this shift works from start to end."""
    step, size = problem.minutes, problem.required.size
    worked = set(template.working_minutes())
    first = day * 1440 + template.start
    slots = []
    for offset in range(0, template.minutes, step):
        index = (first + offset) // step
        if index < size and all(offset + i in worked for i in range(step)):
            slots.append(index)
    return slots


class _Model:
    def __init__(self, problem: RosterProblem) -> None:
        self.problem = problem
        self.model = cp_model.CpModel()
        self.shifts: dict[tuple[int, int, int], cp_model.IntVar] = {}  # (operator, day, template)
        self.covers = [_cover(problem, t, d) for d in range(problem.days) for t in problem.templates]
        for o, operator in enumerate(problem.operators):
            candidates = _candidates(problem, operator)
            own = {(d, k): self.model.new_bool_var(f"x_{o}_{d}_{k}") for d, k, _, _ in candidates}
            self.shifts.update({(o, d, k): var for (d, k), var in own.items()})
            self._rest(own, candidates)
            self._hours(own, operator)
            self._nights(own)
        self.under = self._coverage()
        step = problem.minutes
        worked = [(var, problem.templates[k].worked // step) for (_, _, k), var in self.shifts.items()]
        self.hours = sum(var * slots for var, slots in worked)
        weight = sum(slots for _, slots in worked) + 1
        self.model.minimize(weight * sum(self.under) + self.hours)

    def _rest(self, own: dict[tuple[int, int], cp_model.IntVar], candidates: list[Candidate]) -> None:
        rest = int(self.problem.rules.min_rest_hours * 60)
        for _, _, start, _ in candidates:
            clique = [own[d, k] for d, k, s, e in candidates if s <= start < e + rest]
            if len(clique) > 1:
                self.model.add_at_most_one(clique)

    def _hours(self, own: dict[tuple[int, int], cp_model.IntVar], operator: Operator) -> None:
        rules = self.problem.rules
        limit = min(operator.max_hours_week or rules.max_hours_week, rules.max_hours_week)
        for week in range(0, self.problem.days, 7):
            terms = [
                var * self.problem.templates[k].worked for (d, k), var in own.items() if week <= d < week + 7
            ]
            if terms:
                self.model.add(sum(terms) <= int(limit * 60))

    def _nights(self, own: dict[tuple[int, int], cp_model.IntVar]) -> None:
        run = self.problem.rules.max_nights_in_row
        nights: list[list[cp_model.IntVar]] = [[] for _ in range(self.problem.days)]
        for (d, k), var in own.items():
            if self.problem.templates[k].night:
                nights[d].append(var)
        for first in range(self.problem.days - run):
            window = [v for day in nights[first : first + run + 1] for v in day]
            if len(window) > run:
                self.model.add(sum(window) <= run)

    def _coverage(self) -> list[cp_model.IntVar]:
        per_slot: list[list[cp_model.IntVar]] = [[] for _ in range(self.problem.required.size)]
        n_templates = len(self.problem.templates)
        for (_, d, k), var in self.shifts.items():
            for slot in self.covers[d * n_templates + k]:
                per_slot[slot].append(var)
        under = []
        for slot, need in enumerate(self.problem.required.tolist()):
            if need <= 0:
                continue
            gap = self.model.new_int_var(0, int(need), f"under_{slot}")
            self.model.add(sum(per_slot[slot]) + gap >= int(need))
            under.append(gap)
        return under


class _Reporter(cp_model.CpSolverSolutionCallback):
    def __init__(self, model: _Model, progress: Callable[[Progress], None], started: float) -> None:
        super().__init__()
        self._model = model
        self._progress = progress
        self._started = started
        self.solutions = 0

    def on_solution_callback(self) -> None:
        self.solutions += 1
        under = sum(self.value(v) for v in self._model.under)
        hours = self.value(self._model.hours) * self._model.problem.minutes / 60
        seconds = time.monotonic() - self._started
        self._progress(Progress(seconds, self.solutions, int(under), hours, self.best_objective_bound))


def solve(
    problem: RosterProblem,
    time_limit: float = 30.0,
    workers: int = 1,  # one worker proved best on 2 shared cores (bench/README.md)
    progress: Callable[[Progress], None] | None = None,
) -> Roster:
    """The best roster found within ``time_limit`` seconds (optimal if the solver proves it)."""
    check(problem)
    started = time.monotonic()
    built = _Model(problem)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.1, time_limit - (time.monotonic() - started))
    solver.parameters.num_workers = workers
    reporter = _Reporter(built, progress or (lambda _: None), started)
    status = solver.solve(built.model, reporter)
    name = solver.status_name(status)
    chosen = [key for key, var in built.shifts.items() if solver.value(var)] if reporter.solutions else []
    return _roster(problem, built, chosen, name, time.monotonic() - started)


def _roster(
    problem: RosterProblem, built: _Model, chosen: Sequence[tuple[int, int, int]], status: str, seconds: float
) -> Roster:
    scheduled = np.zeros(problem.required.size, dtype=np.int64)
    assignments = []
    for o, d, k in sorted(chosen):
        template = problem.templates[k]
        scheduled[built.covers[d * len(problem.templates) + k]] += 1
        assignments.append(
            Assignment(
                operator=problem.operators[o].id,
                day=problem.start + timedelta(days=d),
                template=template.name,
                start=d * 1440 + template.start,
                minutes=template.minutes,
                worked=template.worked,
            )
        )
    return Roster(status, tuple(assignments), problem.required, scheduled, seconds, status == "OPTIMAL")
