"""The HTTP application: routers of every room, /metrics, /healthz, the admin page, and the one
place where domain errors become HTTP responses (stable ``error_id``, message, details)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from prometheus_client import CollectorRegistry

from agents.exceptions import AgentsError
from dialplan.apply import ApplyFailed
from hotline.auth import Unauthorized
from ivr.api import ivr_router, referrals_router
from ivr.document import DocumentError
from ivr.prompts import PromptError
from ivr.service import IvrError, IvrService
from ivr.store import IvrStore
from metrics.api import calls_router
from metrics.exceptions import MetricsError
from metrics.export import CallExporter
from metrics.exposition import metrics_app
from metrics.store import RecordStore
from telephony.ami import AmiUnavailable, NodeStatus

STATIC = Path(__file__).resolve().parent / "static"


def _error(status: int, error_id: str, message: str, details: Any = None) -> JSONResponse:
    return JSONResponse({"error_id": error_id, "message": message, "details": details}, status_code=status)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(IvrError)
    async def ivr_error(_: Request, exc: IvrError) -> JSONResponse:
        return _error(exc.status, exc.error_id, str(exc), exc.details())

    @app.exception_handler(DocumentError)
    async def document_error(_: Request, exc: DocumentError) -> JSONResponse:
        details = [{"where": i.where, "problem": i.problem, "message": str(i)} for i in exc.issues]
        return _error(422, exc.error_id, "the document cannot be read", details)

    @app.exception_handler(PromptError)
    async def prompt_error(_: Request, exc: PromptError) -> JSONResponse:
        return _error(422, exc.error_id, str(exc))

    @app.exception_handler(ApplyFailed)
    async def apply_failed(_: Request, exc: ApplyFailed) -> JSONResponse:
        return _error(exc.status, exc.error_id, str(exc), {"node": exc.node})

    @app.exception_handler(AmiUnavailable)
    async def ami_unavailable(_: Request, exc: AmiUnavailable) -> JSONResponse:
        return _error(503, exc.error_id, str(exc), {"node": exc.node})

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = [{"where": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]} for e in exc.errors()]
        return _error(422, "invalid_request", "the request does not fit this endpoint", details)

    @app.exception_handler(AgentsError)
    async def agents_error(_: Request, exc: AgentsError) -> JSONResponse:
        return _error(exc.status, exc.error_id, str(exc))

    @app.exception_handler(MetricsError)
    async def metrics_error(_: Request, exc: MetricsError) -> JSONResponse:
        return _error(exc.status, exc.error_id, str(exc), exc.details)

    @app.exception_handler(Unauthorized)
    async def unauthorized(_: Request, exc: Unauthorized) -> JSONResponse:
        return _error(401, exc.error_id, str(exc))


def create_app(
    store: RecordStore,
    registry: CollectorRegistry,
    nodes: Callable[[], Iterable[NodeStatus]],
    agi_listening: Callable[[], bool],
    ivr: IvrService,
    ivr_store: IvrStore,
    require_admin: Callable[[Request], Awaitable[object]],
    routers: Sequence[APIRouter] = (),
    require_lead: Callable[[Request], Awaitable[object]] | None = None,
    exporter: CallExporter | None = None,
) -> FastAPI:
    """``require_lead`` guards call records and exports (default: admins only)."""
    app = FastAPI(title="Hotline", version="0.1.0")
    _install_errors(app)
    for router in routers:
        app.include_router(router)
    app.include_router(calls_router(store, require_lead or require_admin, exporter))
    app.include_router(ivr_router(ivr, ivr_store, require_admin))
    app.include_router(referrals_router(ivr))
    app.mount("/metrics", metrics_app(registry))
    app.mount("/static", StaticFiles(directory=STATIC), name="static")

    @app.get("/operator/", include_in_schema=False)
    async def operator_page() -> FileResponse:
        return FileResponse(STATIC / "operator.html")

    @app.get("/admin", include_in_schema=False)
    async def admin_redirect() -> RedirectResponse:
        return RedirectResponse("/admin/")

    @app.get("/admin/", include_in_schema=False)
    async def admin_page() -> FileResponse:
        return FileResponse(STATIC / "admin.html")

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        statuses = list(nodes())
        body = {
            "status": "ok" if statuses and all(s.logged_in for s in statuses) else "degraded",
            "agi": {"listening": agi_listening()},
            "ivr": {"version": ivr.engine().version if _has_engine(ivr) else None},
            "asterisk": [
                {
                    "node": s.node,
                    "connected": s.connected,
                    "logged_in": s.logged_in,
                    "since": s.since.isoformat() if s.since else None,
                    "last_error": s.last_error,
                    "reconnects": s.reconnects,
                    "events_total": s.events_total,
                }
                for s in statuses
            ],
        }
        return JSONResponse(body, status_code=200 if body["status"] == "ok" else 503)

    return app


def _has_engine(ivr: IvrService) -> bool:
    try:
        ivr.engine()
    except IvrError:
        return False
    return True
