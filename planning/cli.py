"""``hotline plan forecast|roster|now``: shift planning from the command line.

A request file (YAML or JSON, the API's body: targets, special days, templates, operators,
rules) plus flags that override it; validated like the API, errors name the field. Rosters
print a line per better roster found while the solver runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, ValidationError

from core.settings import Settings

if TYPE_CHECKING:  # numpy and OR-Tools load only when a plan is made
    from planning.schemas import RosterIn
    from planning.service import Plan, PlanningService

_FLAGS = {  # flag -> field of the request body
    "start": "start",
    "days": "days",
    "interval": "interval_minutes",
    "weeks": "history_weeks",
    "timezone": "timezone",
    "by": "by",
    "model": "model",
    "time_limit": "time_limit_seconds",
}
_TARGETS = ("service_level", "answer_within", "max_abandon", "max_occupancy", "shrinkage")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    plan = sub.add_parser("plan", help="forecast, staffing and rosters (shift planning)")
    plan.add_argument("action", choices=("forecast", "roster", "now"))
    plan.add_argument("--request", type=Path, help="YAML/JSON request: targets, templates, operators, rules")
    plan.add_argument("--start", help="first day planned, YYYY-MM-DD (default: today)")
    plan.add_argument("--days", type=int)
    plan.add_argument("--interval", type=int, help="interval minutes: 15, 30 or 60")
    plan.add_argument("--weeks", type=int, help="weeks of history")
    plan.add_argument("--timezone")
    plan.add_argument("--by", choices=("queue", "topic"))
    plan.add_argument("--model", choices=("erlang_a", "erlang_c"))
    for target in _TARGETS:
        plan.add_argument(f"--{target.replace('_', '-')}", type=float, dest=target)
    plan.add_argument("--time-limit", type=float, dest="time_limit", help="roster solver seconds")
    plan.add_argument("--json", type=Path, dest="json_out", help="write the full result as JSON here")


def run(settings: Settings, args: argparse.Namespace) -> int:
    from core.db import make_engine, migrate
    from planning.schemas import PlanIn, PlanOut, RosterIn
    from planning.service import PlanningError, PlanningService

    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        service = PlanningService(engine)
        body = _body(args)
        body.setdefault("timezone", settings.metrics.timezone)  # the line's, unless asked otherwise
        if args.action == "now":
            return _now(service, body)
        model: type[PlanIn] = RosterIn if args.action == "roster" else PlanIn
        request = model.model_validate(body)
        zone = request.timezone or settings.metrics.timezone
        plan = service.plan(request.build(datetime.now(ZoneInfo(zone)).date(), zone))
        if isinstance(request, RosterIn):
            return _roster(service, plan, request, args.json_out)
        _print_plan(plan)
        _write(args.json_out, PlanOut.of(plan))
        return 0
    except ValidationError as exc:
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"])
            print(f"hotline plan: {where}: {error['msg']}", file=sys.stderr)
        return 2
    except PlanningError as exc:
        where = f"{exc.where}: " if exc.where else ""
        print(f"hotline plan: {where}{exc}", file=sys.stderr)
        return 2
    finally:
        engine.dispose()


def _body(args: argparse.Namespace) -> dict[str, Any]:
    body: dict[str, Any] = {}
    if args.request is not None:
        loaded = yaml.safe_load(args.request.read_text(encoding="utf-8"))
        body = dict(loaded) if isinstance(loaded, dict) else {}
    for flag, field in _FLAGS.items():
        if getattr(args, flag) is not None:
            body[field] = getattr(args, flag)
    targets = dict(body.get("targets") or {})
    targets.update({t: getattr(args, t) for t in _TARGETS if getattr(args, t) is not None})
    if targets:
        body["targets"] = targets
    return body


def _print_plan(plan: Plan) -> None:
    grid = plan.grid
    print(f"plan from {grid.start}, {grid.days} day(s) of {grid.minutes}-minute intervals ({grid.zone.key})")
    for q in plan.queues:
        f = q.forecast
        error = f"{f.error:.1%}" if f.error is not None else "n/a"
        patience = f"{f.patience:.0f} s" if f.patience is not None else "none seen"
        print(
            f"  {f.group}: {f.model} (backtest WAPE {error}, {f.history_weeks} weeks), "
            f"{f.calls.sum():.0f} calls, {q.model}, patience {patience}, "
            f"peak {int(q.positions.max())} positions"
        )
    required = plan.required()
    for day in range(grid.days):
        block = required[day * grid.per_day : (day + 1) * grid.per_day]
        peak = int(block.argmax())
        print(
            f"  {grid.slot_start(day * grid.per_day).date()}: peak {int(block.max())} at {_clock(grid, peak)}"
        )


def _clock(grid: Any, slot: int) -> str:
    minutes = slot * grid.minutes
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _roster(service: PlanningService, plan: Plan, request: RosterIn, out: Path | None) -> int:
    from planning.roster import Progress
    from planning.schemas import RosterOut

    def progress(p: Progress) -> None:
        print(
            f"  {p.seconds:6.1f} s  roster {p.solutions}: under-coverage {p.under} interval-positions, "
            f"{p.hours:.1f} h",
            file=sys.stderr,
            flush=True,
        )

    print(f"solving the roster (at most {request.time_limit_seconds:.0f} s) ...", file=sys.stderr, flush=True)
    roster = service.roster(
        plan,
        [t.build() for t in request.templates],
        [o.build() for o in request.operators],
        request.rules.build(),
        request.time_limit_seconds,
        progress,
    )
    result = RosterOut.of(plan, roster, [o.id for o in request.operators])
    print(
        f"roster {result.status.lower()} in {result.seconds:.1f} s: {result.hours_total:.1f} h scheduled, "
        f"under-coverage {result.under_total} interval-positions of {sum(result.plan.required)}"
    )
    for operator in result.operators:
        weeks = ", ".join(f"{h:.1f}" for h in operator.hours_per_week)
        print(f"  {operator.id}: {len(operator.shifts)} shifts, hours per week {weeks}")
    _write(out, result)
    return 0 if result.status in ("OPTIMAL", "FEASIBLE") else 1


def _now(service: PlanningService, body: dict[str, Any]) -> int:
    from planning.schemas import PlanIn
    from planning.service import PlanRequest

    request = PlanIn.model_validate({k: v for k, v in body.items() if k in ("interval_minutes", "timezone")})
    base = PlanRequest(
        start=datetime.now(UTC).date(), minutes=request.interval_minutes, timezone=request.timezone or "UTC"
    )
    at, plan, index = service.now(base)
    print(f"{plan.grid.slot_start(index).isoformat()} ({plan.grid.minutes} min), now {at.isoformat()}")
    for q in plan.queues:
        print(
            f"  {q.forecast.group}: {int(q.positions[index])} positions "
            f"({int(q.agents[index])} on the phones)"
        )
    return 0


def _write(path: Path | None, result: BaseModel) -> None:
    if path is not None:
        path.write_text(json.dumps(result.model_dump(mode="json"), indent=1), encoding="utf-8")
        print(f"written to {path}")
