"""Erlang B/C/A against published values and against the M/M/n+M birth-death chain solved
directly (no closed forms): stationary distribution by its balance equations, waits by
uniformisation of the chain an arrival sees ahead of it."""

from __future__ import annotations

import math

import numpy as np
import pytest

from planning.erlang import (
    Cells,
    Targets,
    erlang_b,
    erlang_b_capacity,
    erlang_c,
    log_erlang_b_table,
    performance,
    staff,
    staff_many,
)

RATE = 100 / 1800  # 100 calls per 30 minutes
AHT = 180.0


def test_erlang_c_reference_values() -> None:
    p = performance(14, RATE, AHT, answer_within=20)
    assert p.wait_probability == pytest.approx(0.17413, abs=5e-6)
    assert p.service_level == pytest.approx(0.88835, abs=5e-6)
    assert p.asa == pytest.approx(7.84, abs=5e-3)
    assert p.occupancy == pytest.approx(10 / 14)


def test_staffing_reference_80_20_with_occupancy_cap_and_shrinkage() -> None:
    needed = staff(RATE, AHT, Targets(service_level=0.8, answer_within=20, max_occupancy=0.85, shrinkage=0.3))
    assert (needed.agents, needed.positions) == (14, 20)
    assert performance(13, RATE, AHT, 20).service_level < 0.8


def test_the_occupancy_cap_can_decide() -> None:
    # 0.5 within 60 s is easy; the 70% cap then asks for ceil(10 / 0.7) = 15 agents.
    needed = staff(RATE, AHT, Targets(service_level=0.5, answer_within=60, max_occupancy=0.7, shrinkage=0))
    assert needed.agents == 15
    assert needed.performance.occupancy <= 0.7


@pytest.mark.parametrize(
    ("lines", "erlangs"),
    [(15, 8.108), (10, 4.461), (20, 12.031), (50, 37.901), (100, 84.064)],  # published 1% tables
)
def test_erlang_b_capacity_matches_published_tables(lines: int, erlangs: float) -> None:
    assert erlang_b_capacity(lines, 0.01) == pytest.approx(erlangs, abs=6e-4)


def test_log_space_erlang_b_agrees_with_the_recursion_and_stays_finite_for_large_n() -> None:
    table = log_erlang_b_table(np.array([1900.0, 3.0]), 2500)
    for n in (1, 7, 1000, 1950, 2500):
        assert math.exp(table[0, n]) == pytest.approx(erlang_b(n, 1900.0), rel=1e-9)
    assert np.isfinite(table[1]).all()  # B(2500, 3) ~ 1e-7000: log space keeps it
    assert table[1, 2500] < -10_000


def test_erlang_c_for_large_n_is_finite() -> None:
    c = erlang_c(2000, 1950.0)
    assert 0 < c < 1
    p = performance(2000, 1950 / 180, 180.0, 20)
    assert p.wait_probability == pytest.approx(c)


def _chain(n: int, rate: float, handle: float, patience: float, states: int = 4000) -> np.ndarray:
    """Stationary distribution of M/M/n+M from its balance equations (truncated far out)."""
    mu, theta = 1 / handle, 1 / patience
    log_p = [0.0]
    for k in range(1, states):
        log_p.append(log_p[-1] + math.log(rate) - math.log(min(k, n) * mu + max(0, k - n) * theta))
    p = np.exp(np.array(log_p) - max(log_p))
    return np.asarray(p / p.sum())


def _answered_within(n: int, handle: float, patience: float, t: float, ahead: int) -> np.ndarray:
    """P(answered within t | j waiting ahead) for j = 0..ahead-1: the chain of the caller's place
    (rates n mu + k theta down, own patience theta out) solved by uniformisation."""
    mu, theta = 1 / handle, 1 / patience
    size = ahead + 2  # places 0..ahead-1, served, left
    served, left = ahead, ahead + 1
    q = np.zeros((size, size))
    for k in range(ahead):
        q[k, k - 1 if k else served] = n * mu + k * theta
        q[k, left] = theta
        q[k, k] = -q[k].sum()
    uni = float(-q.diagonal().min())
    step = np.eye(size) + q / uni
    u = np.zeros(size)
    u[served] = 1.0
    total, weight, m = np.zeros(size), math.exp(-uni * t), 0
    while weight > 0 or m < uni * t:
        total += weight * u
        u = step @ u
        m += 1
        weight *= uni * t / m
        if m > uni * t + 40 * math.sqrt(uni * t + 1) + 50:
            break
    return total[:ahead]


@pytest.mark.parametrize(
    ("n", "rate", "handle", "patience", "t"),
    [
        (14, RATE, AHT, 120.0, 20.0),
        (5, RATE, AHT, 60.0, 20.0),
        (9, 0.1, 90.0, 400.0, 30.0),
        (30, 0.3, 100.0, 45.0, 10.0),
    ],
)
def test_erlang_a_matches_the_birth_death_chain(
    n: int, rate: float, handle: float, patience: float, t: float
) -> None:
    p = _chain(n, rate, handle, patience)
    k = np.arange(p.size)
    queue = np.maximum(k - n, 0)
    wait = p[n:].sum()
    abandon = (queue * p).sum() / patience / rate
    ahead = 600
    within = p[:n].sum() + (p[n : n + ahead] * _answered_within(n, handle, patience, t, ahead)).sum()
    got = performance(n, rate, handle, t, patience)
    assert got.wait_probability == pytest.approx(wait, rel=1e-9)
    assert got.abandon_probability == pytest.approx(abandon, rel=1e-9)
    assert got.asa == pytest.approx((queue * p).sum() / rate, rel=1e-9)  # Little's law
    assert got.occupancy == pytest.approx((np.minimum(k, n) * p).sum() / n, rel=1e-9)
    assert got.service_level == pytest.approx(within, abs=1e-9)


def test_erlang_a_tends_to_erlang_c_as_patience_grows() -> None:
    c = performance(14, RATE, AHT, 20)
    gaps = []
    for patience in (200.0, 2_000.0, 20_000.0, 200_000.0):
        a = performance(14, RATE, AHT, 20, patience=patience)
        gaps.append(abs(a.wait_probability - c.wait_probability) + abs(a.service_level - c.service_level))
    assert gaps == sorted(gaps, reverse=True)
    assert gaps[-1] < 1e-3


def test_erlang_a_large_system_is_finite_and_monotone() -> None:
    levels = [performance(n, 12.0, 180.0, 20, patience=300).service_level for n in (2100, 2160, 2200, 2260)]
    assert all(0 <= x <= 1 for x in levels)
    assert levels == sorted(levels)


def _first_fit(rate: float, handle: float, patience: float | None, targets: Targets) -> int:
    n = 1
    while True:
        p = performance(n, rate, handle, targets.answer_within, patience)
        ok = p.service_level >= targets.service_level and p.occupancy <= targets.max_occupancy
        if targets.max_abandon is not None:
            ok = ok and p.abandon_probability <= targets.max_abandon
        if ok:
            return n
        n += 1


def test_vectorised_search_finds_the_fewest_agents_of_a_linear_scan() -> None:
    rng = np.random.default_rng(7)
    rate = rng.uniform(1, 80, 60) / 1800
    handle = rng.uniform(120, 500, 60)
    patience = np.where(rng.random(60) < 0.3, np.inf, rng.uniform(30, 400, 60))
    targets = Targets(service_level=0.9, answer_within=30, max_abandon=0.05, max_occupancy=0.85)
    agents, _ = staff_many(Cells(rate, handle, patience, 30.0), targets)
    for i in range(60):
        pat = None if math.isinf(patience[i]) else float(patience[i])
        assert agents[i] == _first_fit(float(rate[i]), float(handle[i]), pat, targets), i


def test_no_calls_needs_nobody() -> None:
    assert staff(0.0, AHT, Targets()).positions == 0
