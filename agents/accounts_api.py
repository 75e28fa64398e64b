"""HTTP API of signing in: sessions (sign in, who am I, sign out), one's own password and
authenticator app, machines' API tokens and kiosk wallboards (admins).

Signing in (and pairing a kiosk) are the routes anybody may call with a body, so they are
bounded (agents/throttle.py): failures per address, and password checks waiting at once for the
whole service, on a thread of their own (argon2id is slow on purpose; the call path's threads
come first). Each account also locks itself after failures in a row (agents/accounts.py).
"""

# No "from __future__ import annotations": FastAPI reads the local Annotated aliases eagerly.

import asyncio
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Depends, Request, Response, status
from pydantic import BaseModel, Field

from agents import passwords
from agents.accounts import Accounts, Person
from agents.auth import COOKIE, KIOSK_COOKIE, Authenticator, Principal
from agents.directory import Role
from agents.exceptions import (
    AccountLocked,
    AlreadyEnrolled,
    Forbidden,
    PairingFailed,
    SecondFactorRequired,
    SignInFailed,
    UnknownKiosk,
    UnknownOperator,
    UnknownToken,
    WeakPassword,
)
from agents.sessions import Found, Kiosk, Sessions
from agents.throttle import SignInBusy, Throttle
from agents.tokens import SCOPES, Token, Tokens
from core.audit import note
from core.errors import DomainError, problems
from core.settings import AccountSettings

T = TypeVar("T")
AccountId = Annotated[str, Field(min_length=1, max_length=40)]
Secret = Annotated[str, Field(min_length=1, max_length=256)]
Language = Literal["ru", "pl", "en"]  # the pages' catalogues (hotline/static/i18n-*.js)


class UnknownScope(DomainError):
    error_id = "unknown_scope"
    status = 422


class SignIn(BaseModel):
    id: AccountId
    password: Secret
    code: str | None = Field(None, max_length=12, description="the authenticator app's code, when asked")


class SessionPublic(BaseModel):
    id: str
    display_name: str
    role: Role
    csrf: str = Field(description="send it back in X-CSRF-Token with every change")
    expires_at: datetime
    idle_minutes: int
    second_factor: bool
    must_enrol: bool = Field(description="set up an authenticator app before anything else")
    language: Language | None = Field(None, description="the pages' language chosen; null: the browser's")


class LanguageChoice(BaseModel):
    language: Language | None = Field(description="ru, pl or en; null: follow the browser")


class PasswordChange(BaseModel):
    current: Secret
    new: Secret


class EnrolmentPublic(BaseModel):
    secret: str = Field(description="shown once: type it into the authenticator app")
    uri: str = Field(description="the same as an otpauth:// address")


class Code(BaseModel):
    code: str = Field(min_length=6, max_length=12)


class TokenCreate(BaseModel):
    name: str = Field(min_length=1, max_length=80, pattern=r"^[\w .:-]+$")
    scopes: list[str] = Field(min_length=1, max_length=len(SCOPES))
    days: int | None = Field(90, ge=1, le=3660, description="days until it expires; null: never")


class TokenPublic(BaseModel):
    id: str
    name: str
    scopes: list[str]
    created_by: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    used_at: datetime | None

    @classmethod
    def of(cls, t: Token) -> "TokenPublic":
        return cls(**{**t.__dict__, "scopes": list(t.scopes)})


class TokenCreated(BaseModel):
    token: str = Field(description="shown once; only its hash is kept")
    about: TokenPublic


class KioskCreate(BaseModel):
    label: str = Field(min_length=1, max_length=80, pattern=r"^[\w .:-]+$")


class KioskPublic(BaseModel):
    id: str
    label: str
    issued_by: str
    created_at: datetime
    paired: bool
    expires_at: datetime
    seen_at: datetime

    @classmethod
    def of(cls, k: Kiosk) -> "KioskPublic":
        return cls(**k.__dict__)


class KioskIssued(BaseModel):
    code: str = Field(description="one-time pairing code, valid 15 minutes")
    link: str = Field(description="open it on the TV: the wallboard pairs itself")
    kiosk: KioskPublic


class Pairing(BaseModel):
    code: Secret


def accounts_router(
    auth: Authenticator,
    accounts: Accounts,
    sessions: Sessions,
    tokens: Tokens,
    settings: AccountSettings,
    address: Callable[[Request], str],
) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["accounts"])
    signed_in = Annotated[Principal, Depends(auth.guard(set(Role), enrolling=True))]
    admin = Annotated[Principal, Depends(auth.guard({Role.ADMIN}, "accounts"))]
    throttle = Throttle()

    async def checked(where: str, check: Callable[..., T], *args: Any) -> T:
        """A password check on the argon2 thread (agents/passwords.py), counted in flight; a
        failure counts against the address."""
        throttle.in_flight += 1
        try:
            return await asyncio.get_running_loop().run_in_executor(passwords.EXECUTOR, partial(check, *args))
        except (SignInFailed, AccountLocked):
            throttle.failed(where)
            raise
        finally:
            throttle.in_flight -= 1

    def public(person: Person, found: Found) -> SessionPublic:
        return SessionPublic(
            id=person.id,
            display_name=person.display_name,
            role=person.role,
            csrf=found.csrf,
            expires_at=found.expires_at,
            idle_minutes=settings.idle_minutes,
            second_factor=person.second_factor,
            must_enrol=person.must_enrol,
            language=person.language,
        )

    def set_cookie(response: Response, secret: str, max_age: int | None, name: str = COOKIE) -> None:
        response.set_cookie(
            name,
            secret,
            max_age=max_age,
            path="/",
            secure=settings.secure_cookies,
            httponly=True,
            samesite="strict",
        )

    def person_of(principal: Principal) -> Found:
        if principal.session is None or principal.kind != "session":
            raise Forbidden("this needs a person's signed-in page, not a token")
        return principal.session

    @router.post(
        "/session",
        response_model=SessionPublic,
        responses=problems(SignInFailed, SecondFactorRequired, AccountLocked, SignInBusy),
    )
    async def sign_in(body: SignIn, request: Request, response: Response) -> SessionPublic:
        """Sign in with a password (and the app's code when the account has a second factor).
        The answer sets the session cookie and gives the CSRF token."""
        where = address(request)
        throttle.admit(where)
        note(request, account=body.id)  # admitted to the check: an audit entry (hotline/audit.py)
        person = await checked(where, accounts.sign_in, body.id, body.password, body.code)
        if earlier := request.cookies.get(COOKIE):  # this browser's session before: it ends here
            await asyncio.to_thread(sessions.end, earlier)
        secret, found = await asyncio.to_thread(sessions.open, person.id)
        request.state.principal = Principal(person.id, person.role, True, "session", None, found)
        set_cookie(response, secret, None)  # a browser session's cookie; the server keeps the timeouts
        return public(person, found)

    @router.get("/session", response_model=SessionPublic)
    async def who(principal: signed_in) -> SessionPublic:
        found = person_of(principal)
        return public(await asyncio.to_thread(accounts.person, principal.name), found)

    @router.delete("/session", status_code=status.HTTP_204_NO_CONTENT)
    async def sign_out(principal: signed_in, request: Request, response: Response) -> None:
        person_of(principal)
        await asyncio.to_thread(sessions.end, request.cookies.get(COOKIE, ""))
        auth.revoked()
        response.delete_cookie(
            COOKIE, path="/", secure=settings.secure_cookies, httponly=True, samesite="strict"
        )

    @router.put("/session/language", response_model=SessionPublic)
    async def choose_language(body: LanguageChoice, principal: signed_in) -> SessionPublic:
        """The language one's pages speak, kept with one's account (any browser, any device)."""
        found = person_of(principal)
        return public(await asyncio.to_thread(accounts.set_language, principal.name, body.language), found)

    @router.put(
        "/session/password",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=problems(SignInFailed, WeakPassword),
    )
    async def change_password(body: PasswordChange, principal: signed_in, request: Request) -> None:
        """One's own new password; every other session of the person ends. A wrong current
        password counts as a failed sign-in, from this address and for the account."""
        person_of(principal)
        where = address(request)
        throttle.admit(where)
        await checked(where, accounts.change_password, principal.name, body.current, body.new)
        ended = await asyncio.to_thread(sessions.end_all, principal.name, request.cookies.get(COOKIE))
        note(request, other_sessions_ended=ended)
        auth.revoked()

    @router.post(
        "/session/second-factor", response_model=EnrolmentPublic, responses=problems(AlreadyEnrolled)
    )
    async def begin_enrolment(principal: signed_in) -> EnrolmentPublic:
        """A new secret for one's authenticator app; in force once a code confirms it."""
        person_of(principal)
        enrolment = await asyncio.to_thread(accounts.begin_enrolment, principal.name)
        return EnrolmentPublic(secret=enrolment.secret, uri=enrolment.uri)

    @router.put(
        "/session/second-factor",
        response_model=SessionPublic,
        responses=problems(AlreadyEnrolled, SignInFailed),
    )
    async def confirm_enrolment(body: Code, principal: signed_in) -> SessionPublic:
        found = person_of(principal)
        person = await asyncio.to_thread(accounts.confirm_enrolment, principal.name, body.code)
        return public(person, found)

    @router.delete(
        "/operators/{operator_id}/second-factor",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=problems(UnknownOperator),
    )
    async def reset_second_factor(operator_id: str, principal: admin) -> None:
        """A lost phone: the person sets up a new app at their next sign-in."""
        if principal.kind == "token" and "staff:write" not in (principal.scopes or ()):
            raise Forbidden("a machine token needs the scope staff:write to reset a second factor")
        await asyncio.to_thread(accounts.reset_second_factor, operator_id)
        auth.revoked()

    @router.get("/tokens", response_model=list[TokenPublic])
    async def list_tokens(_: admin) -> list[TokenPublic]:
        return [TokenPublic.of(t) for t in await asyncio.to_thread(tokens.all)]

    @router.get("/tokens/scopes", response_model=list[str])
    async def scopes(_: admin) -> list[str]:
        return list(SCOPES)

    @router.post(
        "/tokens",
        response_model=TokenCreated,
        status_code=status.HTTP_201_CREATED,
        responses=problems(UnknownScope),
    )
    async def create_token(body: TokenCreate, principal: admin, request: Request) -> TokenCreated:
        unknown = sorted(set(body.scopes) - set(SCOPES))
        if unknown:
            raise UnknownScope(
                f"unknown scopes: {', '.join(unknown)}", [{"where": "scopes", "problem": u} for u in unknown]
            )
        if principal.scopes is not None and not set(body.scopes) <= principal.scopes:
            beyond = ", ".join(sorted(set(body.scopes) - principal.scopes))
            raise Forbidden(f"a token may make tokens only within its own scopes; not {beyond}")
        token, about = await asyncio.to_thread(
            tokens.create, body.name, body.scopes, body.days, principal.name
        )
        note(request, token=about.id, name=about.name, scopes=list(about.scopes))
        return TokenCreated(token=token, about=TokenPublic.of(about))

    @router.delete("/tokens/{token_id}", response_model=TokenPublic, responses=problems(UnknownToken))
    async def revoke_token(token_id: str, _: admin) -> TokenPublic:
        revoked = await asyncio.to_thread(tokens.revoke, token_id)
        auth.revoked()
        return TokenPublic.of(revoked)

    @router.get("/kiosks", response_model=list[KioskPublic])
    async def list_kiosks(_: admin) -> list[KioskPublic]:
        return [KioskPublic.of(k) for k in await asyncio.to_thread(sessions.kiosks)]

    @router.post("/kiosks", response_model=KioskIssued, status_code=status.HTTP_201_CREATED)
    async def issue_kiosk(body: KioskCreate, principal: admin) -> KioskIssued:
        """A pairing code for a TV's wallboard: open the link on the TV within 15 minutes."""
        code, kiosk = await asyncio.to_thread(sessions.issue_kiosk, body.label, principal.name)
        return KioskIssued(code=code, link=f"/wallboard#pair={code}", kiosk=KioskPublic.of(kiosk))

    @router.delete(
        "/kiosks/{kiosk_id}", status_code=status.HTTP_204_NO_CONTENT, responses=problems(UnknownKiosk)
    )
    async def revoke_kiosk(kiosk_id: str, _: admin) -> None:
        """The TV's session ends; its open stream closes within a second."""
        await asyncio.to_thread(sessions.revoke_kiosk, kiosk_id)
        auth.revoked()

    @router.post(
        "/kiosks/pair",
        status_code=status.HTTP_204_NO_CONTENT,
        responses=problems(PairingFailed, SignInBusy),
    )
    async def pair(body: Pairing, request: Request, response: Response) -> None:
        """The TV trades its pairing code for a long-lived, read-only wallboard cookie."""
        where = address(request)
        throttle.admit(where)
        note(request, pairing=True)  # admitted to the check: an audit entry (hotline/audit.py)
        try:
            secret, found = await asyncio.to_thread(sessions.pair, body.code)
        except PairingFailed:
            throttle.failed(where)
            raise
        request.state.principal = Principal(f"kiosk:{found.label}", found.role, False, "kiosk", None, found)
        set_cookie(response, secret, settings.kiosk_days * 86_400, KIOSK_COOKIE)

    return router
