"""HTTP of the live wallboard for shift leads and admins: the snapshot and its Server-Sent
Events stream. Operators get a 403. An open stream asks every ``RECHECK_SECONDS`` whether its
token still admits it, and ends when it does not (the lead deactivated, their token reset,
their role changed)."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import StreamingResponse

from core.tasks import child
from core.types import Guard, StillAdmitted
from wallboard.service import Wallboard

log = logging.getLogger("hotline.wallboard")
KEEPALIVE_SECONDS = 15.0
RECHECK_SECONDS = 5.0  # how long a stream may outlive its token revoked by another process
Revocation = Callable[[float], Awaitable[None]]


def wallboard_router(
    wallboard: Wallboard,
    require_lead: Guard,
    still_admitted: StillAdmitted,
    revocation: Revocation | None = None,
) -> APIRouter:
    """``still_admitted``: ``require_lead``'s question again, for a stream that stays open;
    ``revocation(timeout)``: returns when something was revoked (streams ask again at once)."""
    router = APIRouter()
    api = APIRouter(prefix="/api/wallboard", tags=["wallboard"], dependencies=[Depends(require_lead)])

    @api.get("")
    async def snapshot() -> dict[str, Any]:
        return wallboard.snapshot()

    @api.get("/stream", response_class=StreamingResponse)
    async def stream(request: Request) -> StreamingResponse:
        return StreamingResponse(
            _events(wallboard, partial(still_admitted, request), RECHECK_SECONDS, revocation),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    router.include_router(api)
    return router


async def _revoked(
    admitted: Callable[[], Awaitable[bool]], every: float, revocation: Revocation | None = None
) -> None:
    """Returns once the stream's token no longer admits it, asked every ``every`` seconds and
    at each revocation (or when asking fails: a stream that cannot tell ends)."""
    try:
        while True:
            await (revocation(every) if revocation else asyncio.sleep(every))
            if not await admitted():
                return
    except Exception:
        log.exception("the wallboard could not recheck a stream's token; the stream ends")


async def _events(
    wallboard: Wallboard,
    admitted: Callable[[], Awaitable[bool]],
    every: float = RECHECK_SECONDS,
    revocation: Revocation | None = None,
) -> AsyncIterator[str]:
    """SSE frames: one ``snapshot`` event per change, a comment line when nothing moves; the
    frames end when the wallboard closes or ``admitted`` answers False."""
    snapshots = wallboard.subscribe()
    revoked = child(_revoked(admitted, every, revocation))
    next_one = child(anext(snapshots))
    try:
        while True:
            done, _ = await asyncio.wait(
                {next_one, revoked}, timeout=KEEPALIVE_SECONDS, return_when=asyncio.FIRST_COMPLETED
            )
            if revoked in done:
                return  # the token no longer admits this stream
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
        revoked.cancel()
        # The pending read must have ended before the generator may be closed ("aclose():
        # asynchronous generator is already running" otherwise, and the subscriber would stay).
        next_one.cancel()
        with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
            await next_one
        with contextlib.suppress(asyncio.CancelledError):
            await revoked
        await snapshots.aclose()
