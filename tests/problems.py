"""What every error answer of the API must look like: RFC 9457 problem details."""

from __future__ import annotations

from typing import Any

import httpx

PROBLEM = "application/problem+json"


def problem_of(response: httpx.Response) -> dict[str, Any]:
    """The answer's error_id, detail and details, once its problem-details envelope is checked."""
    assert response.headers["content-type"] == PROBLEM, response.headers["content-type"]
    body = response.json()
    assert body["type"] == f"urn:hotline:problem:{body['error_id']}"
    assert body["status"] == response.status_code
    assert isinstance(body["title"], str) and body["title"]
    assert isinstance(body["detail"], str)
    return {"error_id": body["error_id"], "detail": body["detail"], "details": body.get("details")}
