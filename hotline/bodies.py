"""The gate every request body passes before the app reads it (issue 14, item 2).

- A body sent to ``/api/`` needs a valid bearer token first: without one the answer is the 401
  at once, the body unread (FastAPI parses a route's body before its guard runs, so a 100 MB
  anonymous JSON was parsed whole to get its 401; invalid UTF-8 got a 400).
- Every body has a cap, per route (``LIMITS``) or ``DEFAULT_LIMIT``: a Content-Length over it
  is a 413 before anything is read, and a chunked body is counted as it arrives and cut off
  with a 413 when it passes the cap.
- A body must keep arriving: a pause longer than the idle timeout ends the request with a 408.
- An answer given before the body was read closes the connection (hotline/front.py): the rest
  of a refused body is never read.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from typing import Any

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.errors import DomainError
from hotline.http import problem
from ivr.api import MAX_UPLOAD
from ivr.codec import MAX_DOCUMENT_BYTES

DEFAULT_LIMIT = 1024 * 1024
MB = 1024 * 1024
# (method, path pattern, bytes): the routes that take more than the default. A recording's own
# cap (ivr/api.py, 413 ivr_upload_too_large) is exact; the gate leaves it a margin.
LIMITS: Sequence[tuple[str, re.Pattern[str], int]] = (
    ("PUT", re.compile(r"/api/ivr/draft(/yaml)?"), 2 * MAX_DOCUMENT_BYTES),  # JSON is wordier than YAML
    ("PUT", re.compile(r"/api/ivr/prompts/[^/]+/[^/]+/recording"), MAX_UPLOAD + MB),
)

Authenticate = Callable[[Request], object]  # raises a DomainError (401) for a missing or bad token


DEFAULT_IDLE_SECONDS = 30.0


class _TooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than this route takes ({limit} bytes)")


class _TooSlow(HTTPException):
    def __init__(self, idle: float) -> None:
        super().__init__(408, f"the body stopped arriving for {idle:g} s", headers={"Connection": "close"})


def limit_of(method: str, path: str) -> int:
    for wanted, pattern, limit in LIMITS:
        if method == wanted and pattern.fullmatch(path):
            return limit
    return DEFAULT_LIMIT


def _has_body(scope: Scope) -> tuple[bool, int | None]:
    """Whether the request announces a body, and its Content-Length if it gives one."""
    length: int | None = None
    chunked = False
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                length = None
        elif name == b"transfer-encoding" and b"chunked" in value.lower():
            chunked = True
    return chunked or bool(length), length


class BodyGate:
    def __init__(
        self, app: ASGIApp, authenticate: Authenticate, idle_seconds: float = DEFAULT_IDLE_SECONDS
    ) -> None:
        self.app = app
        self._authenticate = authenticate
        self._idle = idle_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        has_body, length = _has_body(scope)
        if not has_body:
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/api/"):  # no /api route without a guard takes a body
            try:
                await asyncio.to_thread(self._authenticate, Request(scope))  # an operator's token: a DB read
            except DomainError as refused:
                headers = {**(refused.headers or {}), "Connection": "close"}
                await _answer(scope, send, refused.status, refused.error_id, str(refused), headers)
                return
        limit = limit_of(scope["method"], path)
        if length is not None and length > limit:
            detail = f"the body is larger than this route takes ({limit} bytes)"
            await _answer(scope, send, 413, "payload_too_large", detail, {"Connection": "close"})
            return
        await self.app(scope, _counted(receive, limit, self._idle), send)


def _counted(receive: Receive, limit: int, idle: float) -> Receive:
    seen = 0
    ended = False

    async def counted() -> Message:
        nonlocal seen, ended
        if ended:  # after the body, receive() waits for the client to go: no timeout then
            return await receive()
        try:
            async with asyncio.timeout(idle):
                message = await receive()
        except TimeoutError:
            raise _TooSlow(idle) from None
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise _TooLarge(limit)
            ended = not message.get("more_body", False)
        return message

    return counted


async def _answer(scope: Scope, send: Send, status: int, error_id: str, detail: str, headers: Any) -> None:
    title = error_id.replace("_", " ").capitalize()
    response = problem(status, error_id, detail, title, headers=dict(headers) if headers else None)
    await response(scope, _no_receive, send)


async def _no_receive() -> Message:
    return {"type": "http.disconnect"}
