"""The HTTP application: routers of every room, /metrics, /healthz."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from fastapi import FastAPI
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry, make_asgi_app

from metrics.api import calls_router
from metrics.store import RecordStore
from telephony.ami import NodeStatus


def create_app(
    store: RecordStore,
    registry: CollectorRegistry,
    nodes: Callable[[], Iterable[NodeStatus]],
    agi_listening: Callable[[], bool],
) -> FastAPI:
    app = FastAPI(title="Hotline", version="0.1.0")
    app.include_router(calls_router(store))
    app.mount("/metrics", make_asgi_app(registry))

    @app.get("/healthz")
    async def healthz() -> JSONResponse:
        statuses = list(nodes())
        body = {
            "status": "ok" if statuses and all(s.logged_in for s in statuses) else "degraded",
            "agi": {"listening": agi_listening()},
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
