"""Who may call what.

A request is admitted by one of:
- a page's session cookie (agents/sessions.py): the person's role decides; every request that
  changes something sends the session's CSRF token back in ``X-CSRF-Token``;
- a kiosk's session cookie: it reads the wallboard and nothing else;
- a machine's API token (``Authorization: Bearer hlt_…``, agents/tokens.py): its scopes decide,
  by the route's area and whether the request reads or changes;
- a person's own API token (``Authorization: Bearer …``, shown once at creation or reset): the
  person's role decides, as for their session.
There is no shared admin token: admins are people with accounts like everyone else.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Annotated

from fastapi import Request, Security
from fastapi.security import APIKeyCookie, HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.exc import SQLAlchemyError

from agents.directory import OperatorDirectory, Role
from agents.exceptions import CsrfFailed, EnrolmentRequired, Forbidden
from agents.last_known import LastKnown
from agents.sessions import KIOSK, Found, Sessions
from agents.tokens import PREFIX, Tokens, scope_of
from core.db import is_outage
from core.errors import DomainError
from core.types import StillAdmitted

ADMIN = "admin"
COOKIE = "hotline_session"
KIOSK_COOKIE = "hotline_kiosk"  # its own: pairing a TV link in a signed-in browser keeps the person
CSRF_HEADER = "x-csrf-token"
SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
KIOSK_SCOPES = frozenset({"wallboard:read"})
# Routes that take a body before anyone is signed in (BodyGate lets them through).
OPEN = frozenset({("POST", "/api/session"), ("POST", "/api/kiosks/pair")})
# Declare the schemes in OpenAPI; the credentials themselves are read by Authenticator.principal,
# so a missing or malformed one is our 401 problem, not the framework's.
BEARER = HTTPBearer(auto_error=False, description="an API token (hlt_…) or a person's own token")
SESSION = APIKeyCookie(name=COOKIE, auto_error=False, description="a signed-in page's session")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)]
SessionCookie = Annotated[str | None, Security(SESSION)]


class Unauthorized(DomainError):
    error_id = "unauthorized"
    status = 401
    headers = MappingProxyType({"WWW-Authenticate": 'Bearer realm="hotline"'})


@dataclass(frozen=True)
class Principal:
    name: str  # the person's pseudonym; "token:<name>#<id>" or "kiosk:<label>" for machines
    role: Role
    operator: bool  # a person (who may have a softphone), not a machine
    kind: str = "personal"  # session | kiosk | token | personal
    scopes: frozenset[str] | None = None  # a token's or kiosk's; None: the role decides
    session: Found | None = None
    until: datetime | None = None  # when this credential ends by itself (a token's expiry)


Guard = Callable[..., Awaitable[Principal]]


class Authenticator:
    def __init__(
        self,
        directory: OperatorDirectory,
        sessions: Sessions,
        tokens: Tokens,
        second_factor_roles: Iterable[str] = (),
    ) -> None:
        self._directory, self._sessions, self._tokens = directory, sessions, tokens
        # A person of these roles signs in with a second factor: their own token, a password's
        # equal, would go round it, so it is not taken (a machine token is the way for scripts).
        self._second_factor_roles = frozenset(second_factor_roles)
        self._revocation = asyncio.Event()
        self._last_known: LastKnown[Principal] = LastKnown()  # for while the database is away

    def revoked(self) -> None:
        """Something that admitted may no longer (a person deactivated or demoted, a session
        ended, a token or kiosk revoked): the open streams ask again now, not at their next
        recheck. Called on the event loop, by the route that made the change."""
        self._last_known.clear()
        event, self._revocation = self._revocation, asyncio.Event()
        event.set()

    async def revocation(self, seconds: float) -> None:
        """Returns at the next :meth:`revoked`, or after ``seconds``."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._revocation.wait()

    def principal(self, request: Request) -> Principal:
        """Who this is (database reads: call it in a worker thread). Unauthorized if nobody.
        While the database cannot be read, who the credential was when it last could
        (agents/last_known.py): an admin still reads /healthz's details in an outage."""
        cookies = request.cookies
        credential = (
            request.headers.get("authorization") or cookies.get(COOKIE) or cookies.get(KIOSK_COOKIE) or ""
        )
        try:
            found = self._principal(request)
        except SQLAlchemyError as exc:
            known = self._last_known.recall(credential) if credential and is_outage(exc) else None
            if known is None:
                raise
            return known
        except Unauthorized:
            self._last_known.forget(credential)
            raise
        session = found.session
        ends = [t for t in (found.until, session and session.expires_at, session and session.idle_until) if t]
        self._last_known.remember(credential, found, min(ends) if ends else None)
        return found

    def _principal(self, request: Request) -> Principal:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        token = given.strip()
        if scheme.lower() == "bearer" and token:
            return self._bearer(token)
        if scheme:
            raise Unauthorized("only bearer tokens are taken: Authorization: Bearer <token>")
        cookies = [c for c in (request.cookies.get(COOKIE), request.cookies.get(KIOSK_COOKIE)) if c]
        if not cookies:
            raise Unauthorized("sign in first, or send a token: Authorization: Bearer <token>")
        found = next((f for f in map(self._sessions.find, cookies) if f is not None), None)
        if found is None:
            raise Unauthorized("this session has ended: sign in again")
        if found.kind == KIOSK:
            return Principal(f"kiosk:{found.label}", found.role, False, KIOSK, KIOSK_SCOPES, found)
        return Principal(found.account, found.role, True, "session", None, found)

    def _bearer(self, token: str) -> Principal:
        if token.startswith(PREFIX):
            machine = self._tokens.find(token)
            if machine is None:
                raise Unauthorized("this token is not valid (unknown, revoked or expired)")
            name = f"token:{machine.name}#{machine.id[:8]}"
            return Principal(
                name, Role.ADMIN, False, "token", frozenset(machine.scopes), None, machine.expires_at
            )
        operator = self._directory.authenticate(token)
        if operator is None:
            raise Unauthorized("this token is not valid")
        if operator.role.value in self._second_factor_roles:
            raise Unauthorized(
                f"a {operator.role.value}'s own token is not taken where the role signs in with a second"
                " factor: sign in, or use a machine token (hlt_…)"
            )
        return Principal(operator.id, operator.role, True)

    def gate(self, request: Request) -> None:
        """For BodyGate: a body is read only from someone admitted, or on the open routes."""
        if (request.method, request.url.path) not in OPEN:
            self.principal(request)

    def admit(
        self, request: Request, roles: frozenset[Role], area: str | None, enrolling: bool = False
    ) -> Principal:
        """The request's principal if it may call a route of this area for these roles;
        Unauthorized, CsrfFailed, EnrolmentRequired or Forbidden otherwise."""
        principal = self.principal(request)
        request.state.principal = principal  # who, for the audit trail (hotline/audit.py)
        found = principal.session
        if found is not None and request.method not in SAFE:
            sent = request.headers.get(CSRF_HEADER, "")
            if not hmac.compare_digest(sent.encode(), found.csrf.encode()):
                raise CsrfFailed(f"a change from a page needs the session's token in {CSRF_HEADER}")
        if principal.scopes is not None:
            scope = scope_of(area, request.method) if area else None
            if scope is None or scope not in principal.scopes:
                what = f"the scope {scope}" if scope else "a person's sign-in"
                raise Forbidden(
                    f"this needs {what}; this {principal.kind} has {', '.join(sorted(principal.scopes))}"
                )
            return principal
        if found is not None and found.must_enrol and not enrolling:
            raise EnrolmentRequired(
                "this line requires a second factor for your role: set up your authenticator app first"
            )
        if principal.role not in roles:
            needed = ", ".join(sorted(r.value for r in roles))
            raise Forbidden(f"this needs the role {needed}; you are {principal.role.value}")
        return principal

    def guard(self, roles: Iterable[Role], area: str | None = None, enrolling: bool = False) -> Guard:
        """A dependency that admits these roles, and the tokens with the area's scope."""
        allowed = frozenset(roles)

        async def check(request: Request, _: Credentials, __: SessionCookie) -> Principal:
            return await asyncio.to_thread(self.admit, request, allowed, area, enrolling)  # database reads

        check.roles, check.area = allowed, area  # type: ignore[attr-defined]  # what it admits, for tests and docs
        return check

    def still_admits(self, roles: Iterable[Role], area: str | None = None) -> StillAdmitted:
        """The guard's question again, for a request that stays open (a stream): False once it
        no longer admits it (the person deactivated or signed out, their session or token
        revoked, their role changed). Ending a session is a database write, so while the
        database cannot be read nothing has ended: the answer stays True until it can."""
        allowed = frozenset(roles)

        async def still(request: Request) -> bool:
            try:
                await asyncio.to_thread(self.admit, request, allowed, area)
            except (Unauthorized, Forbidden, EnrolmentRequired, CsrfFailed):
                return False
            except SQLAlchemyError:
                return True
            return True

        return still
