"""The OpenAPI document says what the app answers on errors: every 4xx/5xx a route may give is
declared, with the problem-details schema, in one place.

- Routes behind a guard (their operation carries ``security``: a session cookie or a bearer
  token) may answer 401 and 403.
- Routes that take parameters or a body may answer 422 (``invalid_request``), besides any 422
  of their own.
- Routes whose method may carry a body may answer 413 (``payload_too_large``: hotline/bodies.py
  caps every body), unless they declare a 413 of their own.
- Rooms declare their own errors on the route (``responses=problems(UnknownOperator, ...)``);
  here every declared error gets the problem+json schema.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

PROBLEM_SCHEMA: dict[str, Any] = {
    "title": "Problem",
    "description": "RFC 9457 problem details; error_id is the stable identifier to match on.",
    "type": "object",
    "required": ["type", "title", "status", "detail", "error_id"],
    "properties": {
        "type": {"type": "string", "description": "urn:hotline:problem:<error_id>"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "error_id": {"type": "string"},
        "details": {"description": "where the problem is: fields, menu paths, a node"},
    },
}
_REF = {"$ref": "#/components/schemas/Problem"}
_GUARDED = {
    "401": "not signed in, the session ended, or a token that is not valid (error_id unauthorized)",
    "403": (
        "the role or the token's scopes may not do this (error_id forbidden); a change from a page"
        " without its X-CSRF-Token (csrf_failed); a second factor to set up first"
        " (second_factor_enrolment_required)"
    ),
}
_WITH_BODY = ("post", "put", "patch", "delete")
_TOO_LARGE = "the body is larger than this route takes (error_id payload_too_large; hotline/bodies.py)"
_INVALID = "the request does not fit this endpoint (error_id invalid_request)"


def document_errors(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(title=app.title, version=app.version, routes=app.routes)
            _rewrite(schema)
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def declared_errors(operation: dict[str, Any]) -> set[int]:
    """The error statuses an operation of the OpenAPI document declares."""
    return {int(code) for code in operation.get("responses", {}) if code[0] in "45"}


def _rewrite(schema: dict[str, Any]) -> None:
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    for item in schema.get("paths", {}).values():
        for method, operation in item.items():
            _rewrite_operation(operation, method)


def _rewrite_operation(operation: dict[str, Any], method: str) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if method in _WITH_BODY:
        responses.setdefault("413", {"description": _TOO_LARGE})
    if operation.get("security"):
        for code, text in _GUARDED.items():
            responses.setdefault(code, {"description": text})
    if operation.get("parameters") or operation.get("requestBody"):
        responses["422"] = {"description": _invalid(responses.get("422"))}
    for code, response in responses.items():
        if code[0] in "45":
            response["content"] = {"application/problem+json": {"schema": _REF}}


def _invalid(declared: dict[str, Any] | None) -> str:
    """The 422's description: the route's own 422 errors (if it declares some) and ours.
    FastAPI's own 422 (its HTTPValidationError) is replaced."""
    if declared is None or "HTTPValidationError" in str(declared.get("content")):
        return _INVALID
    return f"{declared['description']}; or {_INVALID}"
