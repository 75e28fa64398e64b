"""Who may call what. For now one admin bearer token (from settings); operator accounts and
roles (operator, senior, shift lead, admin) come with the operators room."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import ClassVar

from fastapi import Request


class Unauthorized(Exception):
    error_id: ClassVar[str] = "unauthorized"
    status: ClassVar[int] = 401


def admin_guard(token: str) -> Callable[[Request], Awaitable[None]]:
    expected = token.encode()

    async def require_admin(request: Request) -> None:
        header = request.headers.get("authorization", "")
        scheme, _, given = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), expected):
            raise Unauthorized("an admin token is required: Authorization: Bearer <token>")

    return require_admin
