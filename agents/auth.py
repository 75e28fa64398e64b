"""Who may call what. A bearer token is either the admin token from the settings or an
operator's own API token; the operator's role decides the rest."""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from agents.directory import OperatorDirectory, Role
from agents.exceptions import Forbidden
from core.errors import DomainError

ADMIN = "admin"
# Declares the scheme in OpenAPI; the token itself is read by Authenticator.principal, so a
# missing or malformed header is our 401 problem, not the framework's.
BEARER = HTTPBearer(auto_error=False, description="the admin token or an operator's API token")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]


class Unauthorized(DomainError):
    error_id = "unauthorized"
    status = 401
    headers = MappingProxyType({"WWW-Authenticate": 'Bearer realm="hotline"'})


@dataclass(frozen=True)
class Principal:
    name: str  # "admin" for the settings' token, else the operator's pseudonym
    role: Role
    operator: bool


Guard = Callable[..., Awaitable[Principal]]


class Authenticator:
    def __init__(self, admin_token: str, directory: OperatorDirectory | None = None) -> None:
        self._admin = admin_token.encode()
        self._directory = directory

    def principal(self, request: Request) -> Principal:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        token = given.strip()
        if scheme.lower() != "bearer" or not token:
            raise Unauthorized("a token is required: Authorization: Bearer <token>")
        if hmac.compare_digest(token.encode(), self._admin):
            return Principal(ADMIN, Role.ADMIN, operator=False)
        operator = self._directory.authenticate(token) if self._directory else None
        if operator is None:
            raise Unauthorized("this token is not valid")
        return Principal(operator.id, operator.role, operator=True)

    def guard(self, roles: Iterable[Role]) -> Guard:
        """A dependency that admits these roles (a 403 names the roles needed)."""
        allowed = frozenset(roles)

        async def check(request: Request, _: Credentials) -> Principal:
            principal = self.principal(request)
            if principal.role not in allowed:
                needed = ", ".join(sorted(r.value for r in allowed))
                raise Forbidden(f"this needs the role {needed}; you are {principal.role.value}")
            return principal

        return check


def admin_guard(token: str) -> Guard:
    return Authenticator(token).guard({Role.ADMIN})
