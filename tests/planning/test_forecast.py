"""Forecasts on generated arrivals with a known weekly pattern (Poisson around it)."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from planning.forecast import (
    HOLT_WINTERS,
    SEASONAL_NAIVE,
    WEIGHTED_AVERAGE,
    Call,
    Grid,
    SpecialDay,
    backtest,
    choose,
    forecast,
    naive_backtest,
    patience,
    seasonal_naive,
)

ZONE = ZoneInfo("Europe/Moscow")
HORIZON_START = date(2026, 11, 23)  # a Monday
MINUTES = 30


def pattern(day: int, slot: int) -> float:
    """Calls per 30 minutes: quiet nights, an evening peak, busier weekends."""
    hour = slot / 2
    daily = 6 + 30 * math.exp(-(((hour - 20) / 3) ** 2)) + 15 * math.exp(-(((hour - 11) / 2.5) ** 2))
    return daily * (1.4 if day % 7 >= 5 else 1.0)


def generate(
    weeks: int, seed: int = 1, holidays: dict[date, float] | None = None, group: str = "crisis"
) -> list[Call]:
    rng = np.random.default_rng(seed)
    grid = Grid(HORIZON_START - timedelta(days=7 * weeks), 7 * weeks, MINUTES, ZONE)
    calls = []
    for i in range(grid.size):
        day, slot = divmod(i, grid.per_day)
        factor = (holidays or {}).get(grid.start + timedelta(days=day), 1.0)
        start = grid.slot_start(i)
        for _ in range(rng.poisson(pattern(day, slot) * factor)):
            at = start + timedelta(seconds=float(rng.uniform(0, MINUTES * 60)))
            handle = 300.0 if slot < 12 else 180.0  # long calls at night
            calls.append(Call(at.astimezone(UTC), group, float(rng.exponential(handle)), True, False, 5.0))
    return calls


def horizon(days: int = 7) -> Grid:
    return Grid(HORIZON_START, days, MINUTES, ZONE)


def truth(days: int = 7) -> np.ndarray:
    g = horizon(days)
    return np.array([pattern(*divmod(i, g.per_day)) for i in range(g.size)])


def test_forecast_recovers_a_known_weekly_pattern() -> None:
    [result] = forecast(generate(8), horizon(), weeks=8)
    expected = truth()
    error = np.abs(result.calls - expected).sum() / expected.sum()
    assert error < 0.15
    assert result.calls.shape == (7 * 48,)
    # the weekend is busier and the evening peak is where it was generated
    assert result.calls[5 * 48 : 7 * 48].sum() > 1.25 * result.calls[0 : 2 * 48].sum()
    assert 38 <= int(np.argmax(result.calls[:48])) <= 42
    assert result.error is not None and 0 < result.error < 0.5
    assert result.wape[result.model] == result.error


def test_night_calls_are_longer_in_the_handle_time_forecast() -> None:
    [result] = forecast(generate(8), horizon(), weeks=8)
    night, day = result.handle[:12].mean(), result.handle[24:40].mean()
    assert night == pytest.approx(300, rel=0.2)
    assert day == pytest.approx(180, rel=0.15)


def test_holt_winters_wins_the_backtest_on_a_growing_series() -> None:
    season = 7 * 24
    rng = np.random.default_rng(3)
    weeks = 8
    t = np.arange(weeks * season)
    base = 10 + 5 * np.sin(2 * np.pi * t / 24) + t * 0.01  # grows week by week
    history = rng.poisson(base).astype(float)
    model, errors = choose(history, season)
    assert model == HOLT_WINTERS
    hw, wa = errors[HOLT_WINTERS], errors[WEIGHTED_AVERAGE]
    assert hw is not None and wa is not None
    assert hw < wa


def test_backtest_needs_enough_weeks() -> None:
    season = 7 * 24
    assert backtest(np.ones(season), season, WEIGHTED_AVERAGE) is None
    assert backtest(np.ones(2 * season), season, HOLT_WINTERS) is None
    assert backtest(np.ones(2 * season), season, WEIGHTED_AVERAGE) == 0.0


def test_special_days_are_left_out_of_history_and_scaled_in_the_horizon() -> None:
    past = [HORIZON_START - timedelta(days=d) for d in (10, 24, 38)]
    calls = generate(8, seed=5, holidays={d: 0.3 for d in past})
    holiday = HORIZON_START + timedelta(days=2)
    specials = [SpecialDay(d, name="past") for d in past] + [SpecialDay(holiday, name="new year")]
    [result] = forecast(calls, horizon(), weeks=8, special_days=specials)
    assert result.special_factors[holiday] == pytest.approx(0.3, abs=0.06)
    expected = truth()
    normal = np.ones(7 * 48, dtype=bool)
    normal[2 * 48 : 3 * 48] = False
    assert np.abs(result.calls[normal] - expected[normal]).sum() / expected[normal].sum() < 0.15
    assert result.calls[2 * 48 : 3 * 48].sum() == pytest.approx(
        0.3 * expected[2 * 48 : 3 * 48].sum(), rel=0.25
    )

    [given] = forecast(calls, horizon(), weeks=8, special_days=[SpecialDay(holiday, factor=2.0)])
    assert given.special_factors == {holiday: 2.0}


def test_groups_are_forecast_apart_and_short_history_is_used_as_it_is() -> None:
    calls = generate(3, seed=2, group="crisis") + generate(3, seed=4, group="legal")
    results = forecast(calls, horizon(14), weeks=8)
    assert [r.group for r in results] == ["crisis", "legal"]
    assert all(r.history_weeks == 3 and r.calls.shape == (14 * 48,) for r in results)
    assert forecast([], horizon(), weeks=8) == []


def test_patience_is_mean_wait_over_abandonment_probability() -> None:
    at = datetime(2026, 11, 1, tzinfo=UTC)
    calls = [Call(at, "q", 100.0, True, i < 20, 30.0) for i in range(100)]
    assert patience(calls) == pytest.approx(30 / 0.2)
    assert patience([Call(at, "q", 100.0, True, False, 30.0)]) is None


def test_the_seasonal_naive_forecast_repeats_the_latest_week_that_saw_each_interval() -> None:
    history = np.array([1.0, 2.0, 3.0, 4.0, np.nan, 6.0])
    assert seasonal_naive(history, 3, 5).tolist() == [4.0, 2.0, 6.0, 4.0, 2.0]
    assert seasonal_naive(np.full(3, np.nan), 3, 3).tolist() == [0.0, 0.0, 0.0]


def test_the_naive_baseline_is_scored_on_the_chosen_models_own_weeks() -> None:
    season = 7 * 48
    a = np.tile(np.arange(1.0, 49.0), 7)
    shifted = np.concatenate([a, a, 2 * a, 2 * a])  # the level doubled two weeks ago
    # weeks 3 and 4: last week's numbers miss week 3 by a and hit week 4; the weighted average
    # misses week 3 by a and week 4 by a half: naive 1/4, weighted average 3/8
    assert naive_backtest(shifted, season, WEIGHTED_AVERAGE) == pytest.approx(0.25)
    assert backtest(shifted, season, WEIGHTED_AVERAGE) == pytest.approx(0.375)
    # three weeks (a, a, 2a): the weighted average is tested on weeks 2 and 3, Holt-Winters (two
    # weeks first) on week 3 alone; the naive baseline on the same weeks: 1/3, then 1/2
    three = shifted[: 3 * season]
    assert naive_backtest(three, season, WEIGHTED_AVERAGE) == pytest.approx(1 / 3)
    assert naive_backtest(three, season, HOLT_WINTERS) == pytest.approx(0.5)
    assert backtest(three, season, SEASONAL_NAIVE, folds=1) == pytest.approx(0.5)
    assert naive_backtest(a, season, WEIGHTED_AVERAGE) is None  # one week: nothing to test on


def test_a_forecast_says_whether_it_beat_the_naive_one() -> None:
    steady = forecast(generate(weeks=6), horizon(), weeks=6)[0]
    assert steady.naive_wape is not None and steady.error is not None
    assert steady.error < steady.naive_wape  # Poisson noise: averaging weeks beats repeating one
    assert not steady.worse_than_naive
    # three weeks: the calls quadrupled two weeks ago; repeating last week beats any average
    cut = datetime.combine(HORIZON_START - timedelta(days=14), datetime.min.time(), tzinfo=ZONE)
    before = [c for c in generate(weeks=3) if c.started_at < cut]
    after = [c for c in generate(weeks=2, seed=5) for _ in range(4)]
    jumped = forecast(before + after, horizon(), weeks=3)[0]
    assert jumped.history_weeks == 3 and jumped.naive_wape is not None
    assert jumped.worse_than_naive and jumped.error is not None and jumped.error > jumped.naive_wape
