"""The HTTP application: the routers every room hands over, /metrics, /healthz, the pages, and
the one place where errors become answers: RFC 9457 problem details (``application/problem+json``)
with the stable ``error_id`` as an extension member, for domain errors and the framework's own
404/405/422 alike."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import SQLAlchemyError
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp

from agents.auth import Guard
from core.db import is_outage
from core.errors import DomainError
from hotline import __version__
from hotline.openapi import document_errors
from hotline.security import SecurityHeaders

STATIC = Path(__file__).resolve().parent / "static"
PAGES = ("admin", "operator", "wallboard", "reports", "planning", "operators", "ivr")
PROBLEM = "application/problem+json"
log = logging.getLogger("hotline.http")
DATABASE_RETRY_AFTER = 5  # seconds: what a 503 for a database away asks a client to wait
_HTTP_ERROR_IDS = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    413: "payload_too_large",
    415: "unsupported_media_type",
}


def problem(
    status: int,
    error_id: str,
    detail: str,
    title: str,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """An RFC 9457 answer; ``details`` and any ``extensions`` are extension members."""
    body: dict[str, Any] = {
        **extensions,
        "type": f"urn:hotline:problem:{error_id}",
        "title": title,
        "status": status,
        "detail": detail,
        "error_id": error_id,
    }
    if details is not None:
        body["details"] = details
    return JSONResponse(body, status_code=status, media_type=PROBLEM, headers=headers)


def install_problems(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        return problem(exc.status, exc.error_id, str(exc), exc.kind(), exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        return problem(
            422, "invalid_request", "the request does not fit this endpoint", "Invalid request", details
        )

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        error_id = _HTTP_ERROR_IDS.get(exc.status_code, f"http_{exc.status_code}")
        title = error_id.replace("_", " ").capitalize()
        return problem(exc.status_code, error_id, str(exc.detail), title, headers=exc.headers)

    @app.exception_handler(SQLAlchemyError)
    async def database_error(_: Request, exc: SQLAlchemyError) -> JSONResponse:
        if is_outage(exc):  # the database away: the same request is worth trying again soon
            log.warning("an HTTP request found the database away (%s)", type(exc).__name__)
            detail = "the database cannot be reached right now; calls go on, try this again shortly"
            headers = {"Retry-After": str(DATABASE_RETRY_AFTER)}
            return problem(503, "database_unavailable", detail, "Database unavailable", headers=headers)
        log.error("unhandled %s in an HTTP request", type(exc).__name__)
        return problem(500, "internal_error", "the service failed on this request", "Internal error")

    @app.exception_handler(Exception)
    async def internal_error(_: Request, exc: Exception) -> JSONResponse:
        log.error("unhandled %s in an HTTP request", type(exc).__name__)
        return problem(500, "internal_error", "the service failed on this request", "Internal error")


def _pages(app: FastAPI) -> None:
    """Every page: ``/name/`` serves its HTML, ``/name`` redirects there."""
    for name in PAGES:
        file = STATIC / f"{name}.html"

        async def page(file: Path = file) -> FileResponse:
            return FileResponse(file)

        async def redirect(name: str = name) -> RedirectResponse:
            return RedirectResponse(f"/{name}/")

        app.add_api_route(f"/{name}/", page, methods=["GET"], include_in_schema=False)
        app.add_api_route(f"/{name}", redirect, methods=["GET"], include_in_schema=False)


Health = Callable[[], tuple[dict[str, Any], bool]]  # the body, and whether all is well


class _App(FastAPI):
    """Security headers outermost: on every answer, the 500s of the server-error layer too."""

    def build_middleware_stack(self) -> ASGIApp:
        return SecurityHeaders(super().build_middleware_stack())


def create_app(
    routers: Sequence[APIRouter],
    metrics: ASGIApp | None = None,
    health: Health | None = None,
    staff: Guard | None = None,
) -> FastAPI:
    """The app of these routers; ``metrics`` is served at /metrics, ``health`` at /healthz (its
    details for the tokens ``staff`` admits)."""
    # No /docs or /redoc: FastAPI's pages load Swagger UI and ReDoc from a CDN, and the one
    # PyPI bundle of the assets (swagger-ui-bundle) holds Swagger UI 4.15.5 of 2022. The
    # schema stays at /openapi.json for any local viewer.
    app = _App(title="Hotline", version=__version__, docs_url=None, redoc_url=None)
    install_problems(app)
    for router in routers:
        app.include_router(router)
    if metrics is not None:
        app.mount("/metrics", metrics)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    _pages(app)
    if health is not None:
        _healthz(app, health, staff)
    document_errors(app)
    return app


# What a load balancer needs, for anyone: whether calls can be taken, and which versions run.
PUBLIC_HEALTH = ("status", "version", "ivr")


def _healthz(app: FastAPI, health: Health, staff: Guard | None) -> None:
    answers: dict[int | str, dict[str, Any]] = {
        503: {"description": "degraded: an Asterisk node is not logged in"},
        401: {"description": "a token not valid (error_id unauthorized); no token: the public answer"},
        403: {
            "description": "an operator's token; details are for admins and shift leads (error_id forbidden)"
        },
    }

    @app.get("/healthz", responses=answers)
    async def healthz(request: Request) -> JSONResponse:
        """Whether the service can take calls, and its versions. With an admin's or a shift
        lead's token also the details: the FastAGI listener, each node's AMI link and its last
        error, operators' changes waiting for a node, records not saved yet."""
        body, ok = health()
        body = {**body, "version": __version__}
        if staff is not None and request.headers.get("authorization"):
            # The guard's arguments: request, credentials, cookie (it reads them from the request).
            await staff(request, None, None)  # a wrong token is a 401, an operator's a 403
        else:
            body = {k: v for k, v in body.items() if k in PUBLIC_HEALTH}
        if ok:
            return JSONResponse(body)
        members = {k: v for k, v in body.items() if k != "status"}  # status is the HTTP status here
        return problem(503, "degraded", "an Asterisk node is not logged in", "Degraded", **members)
