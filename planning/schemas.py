"""Pydantic I/O of shift planning: requests validated field by field, plans and rosters out."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Annotated, Literal, Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.bounds import Day
from planning.erlang import Targets
from planning.forecast import SpecialDay
from planning.roster import Break, Operator, Roster, Rules, ShiftTemplate, Window
from planning.service import Plan, PlanRequest

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")
Clock = Annotated[str, Field(pattern=_CLOCK.pattern, examples=["08:00"])]


def minutes_of(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TargetsIn(_In):
    service_level: float = Field(0.8, gt=0, lt=1, description="share answered within answer_within")
    answer_within: float = Field(20.0, gt=0, le=3600, description="seconds")
    max_abandon: float | None = Field(None, gt=0, lt=1, description="Erlang A: at most this share abandons")
    max_occupancy: float = Field(0.85, gt=0, le=1, description="the burnout cap")
    shrinkage: float = Field(0.3, ge=0, lt=1)

    def build(self) -> Targets:
        return Targets(
            self.service_level, self.answer_within, self.max_abandon, self.max_occupancy, self.shrinkage
        )


class SpecialDayIn(_In):
    date: Day
    factor: float | None = Field(None, ge=0, le=20, description="calls relative to a normal day")
    name: str = Field("", max_length=80)


class PlanIn(_In):
    start: Day | None = Field(None, description="first day planned (default: today)")
    days: int = Field(7, ge=1, le=28)
    interval_minutes: Literal[15, 30, 60] = 30
    history_weeks: int = Field(8, ge=1, le=52)
    timezone: str | None = Field(None, max_length=64, description="IANA name; none: metrics.timezone")
    by: Literal["queue", "topic"] = "queue"
    model: Literal["erlang_a", "erlang_c"] = "erlang_a"
    targets: TargetsIn = Field(default_factory=TargetsIn)
    special_days: list[SpecialDayIn] = Field(default_factory=list, max_length=400)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r}: use an IANA name such as 'Europe/Moscow'"
            ) from None
        return value

    def build(self, today: date, zone: str = "UTC") -> PlanRequest:
        """``zone``: the line's, for a request that names none."""
        return PlanRequest(
            start=self.start or today,
            days=self.days,
            minutes=self.interval_minutes,
            weeks=self.history_weeks,
            timezone=self.timezone or zone,
            by=self.by,
            model=self.model,
            targets=self.targets.build(),
            special_days=tuple(SpecialDay(d.date, d.factor, d.name) for d in self.special_days),
        )


class BreakIn(_In):
    offset_minutes: int = Field(ge=0, le=24 * 60, description="minutes after the shift's start")
    minutes: int = Field(gt=0, le=180)


class ShiftTemplateIn(_In):
    name: str = Field(min_length=1, max_length=40)
    start: Clock
    minutes: int = Field(gt=0, le=16 * 60)
    breaks: list[BreakIn] = Field(default_factory=list, max_length=6)

    def build(self) -> ShiftTemplate:
        breaks = tuple(Break(b.offset_minutes, b.minutes) for b in self.breaks)
        return ShiftTemplate(self.name, minutes_of(self.start), self.minutes, breaks)


class WindowIn(_In):
    weekday: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
    start: Clock
    end: Clock = Field(description="at or before start: the next day")

    def build(self) -> Window:
        return Window(WEEKDAYS.index(self.weekday), minutes_of(self.start), minutes_of(self.end))


class OperatorIn(_In):
    id: str = Field(min_length=1, max_length=80, description="the operator's pseudonym")
    max_hours_week: float | None = Field(None, gt=0, le=80)
    available: list[WindowIn] | None = Field(None, description="none: any time")
    days_off: list[Day] = Field(default_factory=list, max_length=400)

    def build(self) -> Operator:
        windows = tuple(w.build() for w in self.available) if self.available is not None else None
        return Operator(self.id, self.max_hours_week, windows, frozenset(self.days_off))


class RulesIn(_In):
    max_hours_week: float = Field(40.0, gt=0, le=80)
    min_rest_hours: float = Field(11.0, ge=0, le=48)
    max_nights_in_row: int = Field(3, ge=0, le=14)

    def build(self) -> Rules:
        return Rules(self.max_hours_week, self.min_rest_hours, self.max_nights_in_row)


class RosterIn(PlanIn):
    templates: list[ShiftTemplateIn] = Field(min_length=1, max_length=30)
    operators: list[OperatorIn] = Field(min_length=1, max_length=500)
    rules: RulesIn = Field(default_factory=RulesIn)
    time_limit_seconds: float = Field(20.0, gt=0, le=300)


class QueuePlanOut(BaseModel):
    queue: str
    forecast_model: str
    backtest_wape: dict[str, float | None]
    wape: float | None = Field(description="backtest error of the chosen model")
    naive_wape: float | None = Field(
        None, description="the seasonal naive forecast's (same interval last week) error on the same backtest"
    )
    worse_than_naive: bool = Field(False, description="the chosen model erred more than the naive one")
    history_weeks: int
    patience_seconds: float | None
    staffing_model: str
    special_factors: dict[str, float]
    calls: list[float]
    handle_seconds: list[float]
    agents: list[int]
    positions: list[int]
    service_level: list[float]
    abandon: list[float]
    occupancy: list[float]


class PlanOut(BaseModel):
    start: date
    days: int
    interval_minutes: int
    timezone: str
    intervals: list[datetime]
    queues: list[QueuePlanOut]
    required: list[int]

    @classmethod
    def of(cls, plan: Plan) -> PlanOut:
        grid = plan.grid
        return cls(
            start=grid.start,
            days=grid.days,
            interval_minutes=grid.minutes,
            timezone=plan.request.timezone,
            intervals=[grid.slot_start(i) for i in range(grid.size)],
            queues=[
                QueuePlanOut(
                    queue=q.forecast.group,
                    forecast_model=q.forecast.model,
                    backtest_wape=q.forecast.wape,
                    wape=q.forecast.error,
                    naive_wape=q.forecast.naive_wape,
                    worse_than_naive=q.forecast.worse_than_naive,
                    history_weeks=q.forecast.history_weeks,
                    patience_seconds=q.forecast.patience,
                    staffing_model=q.model,
                    special_factors={d.isoformat(): f for d, f in q.forecast.special_factors.items()},
                    calls=[round(float(x), 3) for x in q.forecast.calls],
                    handle_seconds=[round(float(x), 1) for x in q.forecast.handle],
                    agents=[int(x) for x in q.agents],
                    positions=[int(x) for x in q.positions],
                    service_level=[round(float(x), 4) for x in q.service_level],
                    abandon=[round(float(x), 4) for x in q.abandon],
                    occupancy=[round(float(x), 4) for x in q.occupancy],
                )
                for q in plan.queues
            ],
            required=[int(x) for x in plan.required()],
        )


class ShiftOut(BaseModel):
    date: date
    template: str
    start: datetime
    end: datetime
    worked_hours: float


class OperatorRosterOut(BaseModel):
    id: str
    shifts: list[ShiftOut]
    hours_per_week: list[float]


class RosterOut(BaseModel):
    plan: PlanOut
    status: str
    optimal: bool
    seconds: float
    hours_total: float
    under_total: int
    operators: list[OperatorRosterOut]
    scheduled: list[int]
    under: list[int]

    @classmethod
    def of(cls, plan: Plan, roster: Roster, operator_ids: list[str]) -> RosterOut:
        grid = plan.grid
        origin = grid.slot_start(0)
        weeks = (grid.days + 6) // 7
        operators = []
        for op in operator_ids:
            own = [a for a in roster.assignments if a.operator == op]
            hours = [0.0] * weeks
            for a in own:
                hours[(a.day - grid.start).days // 7] += a.worked / 60
            shifts = [
                ShiftOut(
                    date=a.day,
                    template=a.template,
                    start=_local(origin, a.start),
                    end=_local(origin, a.start + a.minutes),
                    worked_hours=a.worked / 60,
                )
                for a in own
            ]
            operators.append(OperatorRosterOut(id=op, shifts=shifts, hours_per_week=hours))
        return cls(
            plan=PlanOut.of(plan),
            status=roster.status,
            optimal=roster.optimal,
            seconds=round(roster.seconds, 2),
            hours_total=sum(a.worked for a in roster.assignments) / 60,
            under_total=int(roster.under.sum()),
            operators=operators,
            scheduled=[int(x) for x in roster.scheduled],
            under=[int(x) for x in roster.under],
        )


def _local(origin: datetime, minutes: int) -> datetime:
    """Wall-clock minutes from the horizon's first midnight, in its time zone."""
    naive = origin.replace(tzinfo=None) + timedelta(minutes=minutes)
    return naive.replace(tzinfo=origin.tzinfo)


class Person(Protocol):
    """What a roster needs of an account (agents.directory.Operator has it)."""

    @property
    def id(self) -> str: ...
    @property
    def display_name(self) -> str: ...
    @property
    def role(self) -> str: ...


class RosterableOut(BaseModel):
    """A person a roster can use: an active account of the line."""

    id: str
    display_name: str
    role: str

    @classmethod
    def of(cls, person: Person) -> RosterableOut:
        return cls(id=person.id, display_name=person.display_name, role=str(person.role))


class SetupOut(BaseModel):
    """What the planning page starts from: the line's time zone and who can be rostered."""

    timezone: str = Field(description="metrics.timezone: the default of every plan")
    operators: list[RosterableOut]


class NowQueueOut(BaseModel):
    queue: str
    required_positions: int
    agents: int
    calls_forecast: float


class NowOut(BaseModel):
    at: datetime
    interval_start: datetime
    interval_minutes: int
    total_positions: int
    queues: list[NowQueueOut]
