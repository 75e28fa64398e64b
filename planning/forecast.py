"""Forecast of arrivals and handle time per interval, per queue (or topic), from call records.

Two models, the better chosen per queue by a rolling-origin backtest over the last weeks of
history (WAPE: sum |actual - forecast| / sum actual, special days left out):

- ``weighted_average``: each interval of the week is the weighted mean of the same interval in
  the recent weeks (newer weeks weigh more);
- ``holt_winters``: additive Holt-Winters with a weekly season, its smoothing constants fitted
  by the least one-step squared error over a small grid (numpy, every constant at once).

A third, the seasonal naive forecast (each interval as the same interval a week before), is not
a candidate: it is the baseline. Its WAPE on the same backtest (the same folds as the chosen
model's) tells whether the chosen forecast beats simply repeating last week.

Holidays and special days: in the history they are left out (the weighted average skips them,
Holt-Winters sees the weighted-average value instead); in the horizon a special day's intervals
are the model's forecast times the day's factor, given or else estimated from the special days
of the history (actual over expected). Handle time per interval is the mean handle time of the
same interval in the history shrunk towards the queue's mean (few calls, little weight).

Everything here is pure: calls in, arrays out. Times on the grid are local wall-clock times.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import numpy.typing as npt

Floats = npt.NDArray[np.float64]
WEIGHTED_AVERAGE = "weighted_average"
HOLT_WINTERS = "holt_winters"
SEASONAL_NAIVE = "seasonal_naive"
_ALPHAS = (0.02, 0.1, 0.3)
_BETAS = (0.0, 0.005)
_GAMMAS = (0.02, 0.1, 0.3)
_SHRINK_CALLS = 5.0  # handle time: the queue's mean counts as this many calls
BACKTEST_WEEKS = 2


@dataclass(frozen=True)
class Call:
    """What forecasting needs of one call record (no caller data)."""

    started_at: datetime  # aware
    group: str  # queue or topic
    handle: float | None  # talk + wrap-up seconds of an answered call
    queued: bool  # entered a queue
    abandoned: bool  # left the queue unanswered
    wait: float | None


@dataclass(frozen=True)
class SpecialDay:
    day: date
    factor: float | None = None  # calls on this day relative to a normal one; None: estimate
    name: str = ""


@dataclass(frozen=True)
class Grid:
    """Days x intervals of local wall-clock time from ``start`` (a local date)."""

    start: date
    days: int
    minutes: int
    zone: ZoneInfo

    @property
    def per_day(self) -> int:
        return 1440 // self.minutes

    @property
    def size(self) -> int:
        return self.days * self.per_day

    def index(self, at: datetime) -> int | None:
        local = at.astimezone(self.zone)
        day = (local.date() - self.start).days
        if not 0 <= day < self.days:
            return None
        return day * self.per_day + (local.hour * 60 + local.minute) // self.minutes

    def slot_start(self, index: int) -> datetime:
        day, slot = divmod(index, self.per_day)
        naive = datetime.combine(self.start + timedelta(days=day), datetime.min.time())
        return (naive + timedelta(minutes=slot * self.minutes)).replace(tzinfo=self.zone)

    def day_mask(self, days: Iterable[date]) -> npt.NDArray[np.bool_]:
        mask = np.zeros(self.size, dtype=bool)
        for d in days:
            offset = (d - self.start).days
            if 0 <= offset < self.days:
                mask[offset * self.per_day : (offset + 1) * self.per_day] = True
        return mask


@dataclass(frozen=True)
class GroupForecast:
    group: str
    model: str
    wape: dict[str, float | None]  # backtest error of each model (None: not enough history)
    calls: Floats  # forecast arrivals per interval of the horizon
    handle: Floats  # forecast mean handle time per interval, seconds
    patience: float | None  # mean patience, seconds (None: no abandonment seen)
    history_weeks: int
    special_factors: dict[date, float]
    naive_wape: float | None = None  # the seasonal naive forecast's error on the same backtest

    @property
    def error(self) -> float | None:
        return self.wape[self.model]

    @property
    def worse_than_naive(self) -> bool:
        """The chosen forecast erred more than repeating last week would have."""
        error, naive = self.error, self.naive_wape
        return error is not None and naive is not None and error > naive


def weekly_weights(weeks: int) -> Floats:
    """Oldest week first: 1, 2, ..., weeks (the newest weighs most)."""
    return np.arange(1, weeks + 1, dtype=np.float64)


def weighted_average(history: Floats, season: int, horizon: int) -> Floats:
    """history: whole seasons, NaN where left out; the forecast repeats the weekly profile."""
    weeks = history.reshape(-1, season)
    weights = np.broadcast_to(weekly_weights(weeks.shape[0])[:, None], weeks.shape)
    present = ~np.isnan(weeks)
    total = np.where(present, weights, 0.0).sum(axis=0)
    profile = (np.where(present, weeks, 0.0) * weights).sum(axis=0) / np.where(total > 0, total, 1)
    return np.resize(profile, horizon)


def holt_winters(history: Floats, season: int, horizon: int) -> Floats:
    """Additive Holt-Winters (weekly season) over every (alpha, beta, gamma) of the grid at once;
    the constants with the least one-step squared error make the forecast. Needs two seasons."""
    y = _filled(history, season)
    params = np.array(list(itertools.product(_ALPHAS, _BETAS, _GAMMAS)))
    alpha, beta, gamma = params[:, 0], params[:, 1], params[:, 2]
    seasons = y[:season] - y[:season].mean()
    level = np.full(len(params), y[:season].mean())
    trend = np.full(len(params), (y[season : 2 * season].mean() - y[:season].mean()) / season)
    states = np.tile(seasons, (len(params), 1))
    sse = np.zeros(len(params))
    for t in range(season, y.size):
        s = states[:, t % season]
        sse += (y[t] - (level + trend + s)) ** 2
        new_level = alpha * (y[t] - s) + (1 - alpha) * (level + trend)
        trend = beta * (new_level - level) + (1 - beta) * trend
        states[:, t % season] = gamma * (y[t] - new_level) + (1 - gamma) * s
        level = new_level
    best = int(np.argmin(sse))
    h = np.arange(1, horizon + 1)
    phase = (y.size + h - 1) % season
    return np.asarray(np.maximum(level[best] + h * trend[best] + states[best, phase], 0.0))


def seasonal_naive(history: Floats, season: int, horizon: int) -> Floats:
    """Each interval as the latest week that saw it (left-out intervals skipped; 0 if none did)."""
    weeks = history.reshape(-1, season)
    profile = np.zeros(season)
    for week in weeks:  # oldest first: newer weeks overwrite
        profile = np.where(np.isnan(week), profile, week)
    return np.resize(profile, horizon)


def _filled(history: Floats, season: int) -> Floats:
    """Left-out intervals get the weighted average of the same interval in other weeks."""
    profile = weighted_average(history, season, history.size)
    return np.where(np.isnan(history), profile, history)


MODELS = {WEIGHTED_AVERAGE: weighted_average, HOLT_WINTERS: holt_winters}
BASELINES = {**MODELS, SEASONAL_NAIVE: seasonal_naive}
_LEAST_WEEKS = {HOLT_WINTERS: 2}  # weeks of history a model needs before its first fold


def wape(actual: Floats, forecast: Floats) -> float | None:
    keep = ~np.isnan(actual)
    total = float(actual[keep].sum())
    if total <= 0:
        return None
    return float(np.abs(actual[keep] - forecast[keep]).sum() / total)


def folds_of(history: Floats, season: int, model: str, folds: int = BACKTEST_WEEKS) -> int:
    """How many of the last weeks the backtest of ``model`` forecasts (0: too little history)."""
    return max(0, min(folds, history.size // season - _LEAST_WEEKS.get(model, 1)))


def backtest(history: Floats, season: int, model: str, folds: int = BACKTEST_WEEKS) -> float | None:
    """Rolling origin: fit on the weeks before each of the last ``folds`` weeks, forecast it."""
    weeks = history.size // season
    folds = folds_of(history, season, model, folds)
    if folds < 1:
        return None
    errors, totals = 0.0, 0.0
    for fold in range(folds, 0, -1):
        cut = (weeks - fold) * season
        actual = history[cut : cut + season]
        predicted = BASELINES[model](history[:cut], season, season)
        keep = ~np.isnan(actual)
        errors += float(np.abs(actual[keep] - predicted[keep]).sum())
        totals += float(actual[keep].sum())
    return errors / totals if totals > 0 else None


def choose(history: Floats, season: int) -> tuple[str, dict[str, float | None]]:
    errors = {name: backtest(history, season, name) for name in MODELS}
    scored = {name: e for name, e in errors.items() if e is not None}
    if not scored:
        return WEIGHTED_AVERAGE, errors
    return min(scored, key=lambda name: scored[name]), errors


def naive_backtest(history: Floats, season: int, model: str) -> float | None:
    """The seasonal naive forecast's WAPE over the same weeks as ``model``'s backtest."""
    folds = folds_of(history, season, model)
    return backtest(history, season, SEASONAL_NAIVE, folds) if folds else None


def handle_profile(sums: Floats, counts: Floats, season: int, horizon: int) -> Floats:
    per_slot_sum = sums.reshape(-1, season).sum(axis=0)
    per_slot_count = counts.reshape(-1, season).sum(axis=0)
    total = float(per_slot_count.sum())
    mean = float(per_slot_sum.sum()) / total if total else 0.0
    profile = (per_slot_sum + _SHRINK_CALLS * mean) / (per_slot_count + _SHRINK_CALLS)
    return np.resize(profile, horizon)


def patience(calls: Sequence[Call]) -> float | None:
    """Mean patience = mean wait / P(abandon) (theta = P(Ab) / E[W]); None without abandons."""
    queued = [c for c in calls if c.queued and c.wait is not None]
    abandoned = sum(c.abandoned for c in queued)
    if not abandoned:
        return None
    mean_wait = sum(c.wait or 0.0 for c in queued) / len(queued)
    return mean_wait * len(queued) / abandoned if mean_wait > 0 else None


def forecast(
    calls: Sequence[Call],
    horizon: Grid,
    weeks: int,
    special_days: Sequence[SpecialDay] = (),
) -> list[GroupForecast]:
    """One forecast per group seen in the calls, for the horizon, from up to ``weeks`` whole
    weeks before it (leading weeks before the first call are not history)."""
    history = _history_grid(calls, horizon, weeks)
    if history is None:
        return []
    groups = sorted({c.group for c in calls})
    special = history.day_mask(d.day for d in special_days)
    return [
        _group([c for c in calls if c.group == group], history, horizon, special, special_days)
        for group in groups
    ]


def _history_grid(calls: Sequence[Call], horizon: Grid, weeks: int) -> Grid | None:
    start = horizon.start - timedelta(days=7 * weeks)
    grid = Grid(start, 7 * weeks, horizon.minutes, horizon.zone)
    seen = [i for i in (grid.index(c.started_at) for c in calls) if i is not None]
    if not seen:
        return None
    skip = min(seen) // (7 * grid.per_day)
    return Grid(start + timedelta(days=7 * skip), 7 * (weeks - skip), horizon.minutes, horizon.zone)


def _series(calls: Sequence[Call], grid: Grid) -> tuple[Floats, Floats, Floats]:
    arrivals, handle_sum, handled = np.zeros(grid.size), np.zeros(grid.size), np.zeros(grid.size)
    for call in calls:
        i = grid.index(call.started_at)
        if i is None:
            continue
        arrivals[i] += 1
        if call.handle is not None:
            handle_sum[i] += call.handle
            handled[i] += 1
    return arrivals, handle_sum, handled


def _group(
    calls: Sequence[Call],
    history: Grid,
    horizon: Grid,
    special: npt.NDArray[np.bool_],
    special_days: Sequence[SpecialDay],
) -> GroupForecast:
    season = 7 * history.per_day
    arrivals, handle_sum, handled = _series(calls, history)
    masked = np.where(special, np.nan, arrivals)
    model, errors = choose(masked, season)
    predicted = MODELS[model](masked, season, horizon.size)
    factors = _special_factors(arrivals, masked, special, season, horizon, special_days)
    for day, factor in factors.items():
        predicted = np.where(horizon.day_mask([day]), predicted * factor, predicted)
    return GroupForecast(
        group=calls[0].group,
        model=model,
        wape=errors,
        calls=predicted,
        handle=handle_profile(handle_sum, handled, season, horizon.size),
        patience=patience(calls),
        history_weeks=history.days // 7,
        special_factors=factors,
        naive_wape=naive_backtest(masked, season, model) if errors[model] is not None else None,
    )


def _special_factors(
    arrivals: Floats,
    masked: Floats,
    special: npt.NDArray[np.bool_],
    season: int,
    horizon: Grid,
    special_days: Sequence[SpecialDay],
) -> dict[date, float]:
    """Each special day of the horizon: its factor, or actual / expected over past special days."""
    expected = float(weighted_average(masked, season, masked.size)[special].sum())
    seen = float(arrivals[special].sum())
    estimate = seen / expected if special.any() and expected > 0 else 1.0
    inside = [d for d in special_days if 0 <= (d.day - horizon.start).days < horizon.days]
    return {d.day: d.factor if d.factor is not None else estimate for d in inside}
