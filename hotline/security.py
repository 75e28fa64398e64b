"""Security headers on every answer of the HTTP app: pages, API, /metrics, errors, streams.

The pages load only their own /static/*.js and *.css (no inline script or style, no outside
asset), fetch, stream and play audio from this origin, and are never framed. No answer of the
API is kept in a cache (a new person's credentials, a token shown once, call records).
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTENT_SECURITY_POLICY = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "media-src 'self'",  # the IVR editor plays a prompt's audio (GET /api/ivr/prompts/…/audio)
        "connect-src 'self'",
        "font-src 'self'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    )
)
HEADERS: tuple[tuple[str, str], ...] = (
    ("content-security-policy", CONTENT_SECURITY_POLICY),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
)
_RAW = [(name.encode("latin-1"), value.encode("latin-1")) for name, value in HEADERS]
_NAMES = {name for name, _ in _RAW}
_NO_STORE = (b"cache-control", b"no-store")


class SecurityHeaders:
    """Pure ASGI (streams pass through unbuffered); a header a route set itself is replaced."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        api = scope["path"].startswith("/api/")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() not in _NAMES]
                if api and not any(k.lower() == b"cache-control" for k, _ in kept):
                    kept.append(_NO_STORE)  # answers of the API may hold secrets shown once, or records
                message = {**message, "headers": [*kept, *_RAW]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
