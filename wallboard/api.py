"""HTTP of the live wallboard for shift leads and admins: the snapshot and its Server-Sent
Events stream. Operators get a 403."""

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import StreamingResponse

from core.tasks import child
from core.types import Guard
from wallboard.service import Wallboard

KEEPALIVE_SECONDS = 15.0


def wallboard_router(wallboard: Wallboard, require_lead: Guard) -> APIRouter:
    router = APIRouter()
    api = APIRouter(prefix="/api/wallboard", tags=["wallboard"], dependencies=[Depends(require_lead)])

    @api.get("")
    async def snapshot() -> dict[str, Any]:
        return wallboard.snapshot()

    @api.get("/stream", response_class=StreamingResponse)
    async def stream() -> StreamingResponse:
        return StreamingResponse(
            _events(wallboard),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    router.include_router(api)
    return router


async def _events(wallboard: Wallboard) -> AsyncIterator[str]:
    """SSE frames: one ``snapshot`` event per change, a comment line when nothing moves."""
    snapshots = wallboard.subscribe()
    try:
        next_one = child(anext(snapshots))
        while True:
            done, _ = await asyncio.wait({next_one}, timeout=KEEPALIVE_SECONDS)
            if not done:
                yield ": keepalive\n\n"
                continue
            try:
                text = next_one.result()
            except StopAsyncIteration:
                return  # the wallboard closed its streams: the service is stopping
            yield f"event: snapshot\ndata: {text}\n\n"
            next_one = child(anext(snapshots))
    finally:
        # The pending read must have ended before the generator may be closed ("aclose():
        # asynchronous generator is already running" otherwise, and the subscriber would stay).
        next_one.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await next_one
        await snapshots.aclose()
