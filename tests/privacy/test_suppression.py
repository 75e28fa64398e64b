"""Small-cell suppression on plain rows: merged into "other", hidden when still small."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from privacy.suppression import OTHER, suppress_small_cells, suppress_small_values


def row(interval: str, topic: str, calls: int, **measures: Any) -> dict[str, Any]:
    return {"interval_start": interval, "topic": topic, "calls": calls, **measures}


def test_small_cells_merge_into_other_per_interval() -> None:
    rows = [
        row("12:00", "crisis", 9, wait=90.0, max_wait=30.0),
        row("12:00", "legal", 2, wait=10.0, max_wait=8.0),
        row("12:00", "loss", 3, wait=None, max_wait=2.0),
        row("12:15", "crisis", 5, wait=5.0, max_wait=1.0),
        row("12:15", "legal", 1, wait=1.0, max_wait=1.0),
    ]
    got = suppress_small_cells(rows, k=5, suppressed=["topic"], kept=["interval_start"], maxima=["max_wait"])
    assert got.rows == [
        row("12:00", "crisis", 9, wait=90.0, max_wait=30.0),
        row("12:00", OTHER, 5, wait=10.0, max_wait=8.0),
        row("12:15", "crisis", 5, wait=5.0, max_wait=1.0),
    ]
    assert (got.merged, got.hidden) == (3, 1)  # the 12:15 "other" (1 call) is hidden


def test_k_one_shows_everything() -> None:
    rows = [row("12:00", "legal", 1), row("12:00", "crisis", 0)]
    got = suppress_small_cells(rows, k=1, suppressed=["topic"], kept=["interval_start"])
    assert got.rows[0] == rows[0]
    assert (got.merged, got.hidden) == (1, 1)  # an empty cell says nothing and shows nothing


def test_several_suppressed_dimensions_and_no_groups() -> None:
    rows = [
        {"topic": "crisis", "queue": "crisis", "calls": 7},
        {"topic": "legal", "queue": "legal", "calls": 3},
        {"topic": "loss", "queue": "main", "calls": 4},
    ]
    got = suppress_small_cells(rows, k=5, suppressed=["topic", "queue"])
    assert got.rows == [rows[0], {"topic": OTHER, "queue": OTHER, "calls": 7}]


def test_an_input_other_cell_joins_the_merged_one() -> None:
    rows = [row("12:00", OTHER, 6), row("12:00", "legal", 2)]
    got = suppress_small_cells(rows, k=5, suppressed=["topic"], kept=["interval_start"])
    assert got.rows == [row("12:00", OTHER, 8)]
    assert got.merged == 1


def test_bad_input_is_refused_clearly() -> None:
    with pytest.raises(ValueError, match="k >= 1"):
        suppress_small_cells([], k=0, suppressed=["topic"])
    with pytest.raises(ValueError, match="'calls'"):
        suppress_small_cells([{"topic": "x"}], k=5, suppressed=["topic"])


cells = st.lists(
    st.tuples(
        st.sampled_from(["12:00", "12:15", "12:30"]),
        st.sampled_from(["a", "b", "c", "d", "e"]),
        st.integers(0, 12),
    ),
    max_size=30,
    unique_by=lambda t: (t[0], t[1]),
)


@given(cells, st.integers(1, 8))
def test_no_cell_under_k_is_ever_shown_and_nothing_is_invented(
    data: list[tuple[str, str, int]], k: int
) -> None:
    rows = [row(i, t, n, answered=n) for i, t, n in data]
    got = suppress_small_cells(rows, k=k, suppressed=["topic"], kept=["interval_start"])
    assert all(r["calls"] >= k for r in got.rows)
    for interval in {i for i, _, _ in data}:
        shown = sum(r["calls"] for r in got.rows if r["interval_start"] == interval)
        total = sum(n for i, _, n in data if i == interval)
        assert shown <= total
        assert total - shown < k  # only one hidden "other" per interval, itself under k
    real = {(i, t): n for i, t, n in data}
    for r in got.rows:
        if r["topic"] != OTHER:
            assert real[(r["interval_start"], r["topic"])] == r["calls"] == r["answered"]


def test_values_count_distinct_calls_and_other_too() -> None:
    members = {
        "issues": {"panic": {1, 2, 3}, "self-harm": {1}, "debts": {4}, "grief": {4, 5}},
        "risk": {"high": {1, 2, 3, 4}, "low": {5}},
    }
    shown = suppress_small_values(members, 3)
    assert shown.rows == [
        {"field": "issues", "value": "panic", "calls": 3},
        {"field": "issues", "value": "other", "calls": 3},  # calls 1, 4, 5: not 4 mentions
        {"field": "risk", "value": "high", "calls": 4},
    ]
    assert (shown.merged, shown.hidden) == (4, 1)  # self-harm, debts, grief, low; risk's "other"
    assert suppress_small_values(members, 1).merged == 0
    with pytest.raises(ValueError):
        suppress_small_values(members, 0)
