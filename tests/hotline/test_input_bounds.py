"""No input gets a 500 (issue 14, item 7): dates near the calendar's ends, huge offsets and
limits, NaN and infinite floats, very long strings and deep JSON are refused with a 422 that
names the parameter."""

from __future__ import annotations

from typing import Any

import pytest

from tests.hotline.test_problems import Api, api, sounds  # noqa: F401  (fixtures)
from tests.problems import problem_of

CASES: list[tuple[str, str, dict[str, Any], str | None]] = [  # where the 422 points; None: 404
    ("get", "/api/reports", {"params": {"start": "9999-12-31T00:00:00"}}, "query.start"),
    ("get", "/api/reports", {"params": {"start": "9999-12-31T00:00:00Z"}}, "query.start"),
    (
        "get",
        "/api/reports",
        {"params": {"start": "0001-01-01T00:00:00", "tz": "Pacific/Kiritimati"}},
        "query.start",
    ),
    ("get", "/api/reports", {"params": {"end": "0001-01-01T00:00:00Z"}}, "query.end"),
    ("get", "/api/reports.csv", {"params": {"start": "9999-12-31T00:00:00"}}, "query.start"),
    ("get", "/api/reports", {"params": {"threshold_seconds": "nan"}}, "query.threshold_seconds"),
    ("get", "/api/reports", {"params": {"short_abandon_seconds": "inf"}}, "query.short_abandon_seconds"),
    ("get", "/api/calls/export", {"params": {"since": "9999-12-31T00:00:00"}}, "query.since"),
    ("get", "/api/calls/export", {"params": {"until": "9999-12-31T23:59:59"}}, "query.until"),
    ("get", "/api/calls/export", {"params": {"since": "0001-01-01T00:00:00"}}, "query.since"),
    ("get", "/api/calls/export", {"params": {"interval_minutes": str(10**20)}}, "query.interval_minutes"),
    ("get", "/api/calls", {"params": {"offset": str(10**20)}}, "query.offset"),
    ("get", "/api/calls", {"params": {"since": "0001-01-01T00:00:00+14:00"}}, "query.since"),
    ("get", "/api/calls", {"params": {"since": "9999-12-31T23:59:59-14:00"}}, "query.since"),
    ("post", "/api/planning/forecast", {"json": {"start": "0001-01-01"}}, "body.start"),
    ("post", "/api/planning/forecast", {"json": {"start": "9999-12-31", "days": 7}}, "body.start"),
    ("post", "/api/planning/forecast", {"json": {"start": "2026-11-23", "days": 10**9}}, "body.days"),
    ("post", "/api/planning/forecast", {"json": {"history_weeks": 10**9}}, "body.history_weeks"),
    ("post", "/api/planning/roster", {"json": {"start": "0001-01-01"}}, "body.start"),
    ("post", "/api/ivr/simulate", {"json": {"keys": ["1"], "at": "0001-01-01T00:00:00"}}, "body.at"),
    ("post", "/api/ivr/simulate", {"json": {"keys": ["1"], "at": "9999-12-31T23:59:59"}}, "body.at"),
    ("post", "/api/ivr/simulate", {"json": {"keys": ["1"] * 100_000}}, "body.keys"),
    ("get", "/api/planning/now", {"params": {"interval_minutes": str(10**20)}}, "query.interval_minutes"),
    (
        "post",
        "/api/operators",
        {"json": {"id": "x" * 10**5, "display_name": "y" * 10**5}},
        "body.display_name",
    ),
    ("post", "/api/operators/{operator_id}/pause", {"json": {"reason": "z" * 100_000}}, "body.reason"),
    ("put", "/api/ivr/draft/{section}/{item_id}", {"content": "[" * 100_000 + "]" * 100_000}, "body"),
    ("get", "/api/operators/{operator_id}/pauses", {"params": {"limit": str(10**20)}}, None),
]


@pytest.mark.parametrize(("method", "template", "request_", "where"), CASES)
async def test_a_bad_input_is_a_422_naming_the_parameter(
    api: Api,  # noqa: F811
    method: str,
    template: str,
    request_: dict[str, Any],
    where: str | None,
) -> None:
    response = await api.send(method, template, **request_)
    if where is None:  # the unknown operator comes first
        assert response.status_code == 404, response.text
        return
    problem = problem_of(response)
    assert response.status_code == 422, response.text
    assert where in [d["where"] for d in problem["details"]], problem["details"]
