"""Who may call what. A bearer token is either the admin token from the settings or an
operator's own API token; the operator's role decides the rest."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError

from agents.directory import OperatorDirectory, Role
from agents.exceptions import Forbidden
from core.errors import DomainError
from core.types import StillAdmitted

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

    def admit(self, request: Request, roles: frozenset[Role]) -> Principal:
        """The request's principal if its role is one of these; Unauthorized or Forbidden (a 403
        naming the roles needed) otherwise."""
        principal = self.principal(request)
        request.state.principal = principal  # who, for the audit trail (hotline/audit.py)
        if principal.role not in roles:
            needed = ", ".join(sorted(r.value for r in roles))
            raise Forbidden(f"this needs the role {needed}; you are {principal.role.value}")
        return principal

    def guard(self, roles: Iterable[Role]) -> Guard:
        """A dependency that admits these roles (a 403 names the roles needed)."""
        allowed = frozenset(roles)

        async def check(request: Request, _: Credentials) -> Principal:
            if self._directory is None:
                return self.admit(request, allowed)
            return await asyncio.to_thread(self.admit, request, allowed)  # a database read

        return check

    def still_admits(self, roles: Iterable[Role]) -> StillAdmitted:
        """The guard's question again, for a request that stays open (a stream): False once its
        token no longer admits it to these roles (the operator deactivated, their token reset,
        their role changed). An operator's token is a database read: it runs in a worker thread,
        never on the loop. Revoking a token is a database write, so while the database cannot
        be read nothing has been revoked: the answer stays True until it can be read again."""
        allowed = frozenset(roles)

        async def still(request: Request) -> bool:
            try:
                await asyncio.to_thread(self.admit, request, allowed)
            except (Unauthorized, Forbidden):
                return False
            except SQLAlchemyError:
                return True
            return True

        return still


def admin_guard(token: str) -> Guard:
    return Authenticator(token).guard({Role.ADMIN})
