"""Who the guards admit (agents/auth.py): a person's own token and a page's session by the
person's role, a machine's token by its scopes, a kiosk to the wallboard alone; a change from a
page only with its CSRF token; and the guard's question asked again for a request that stays
open (a stream): still_admits."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request

from agents.auth import COOKIE, Authenticator, Unauthorized
from agents.directory import OperatorDirectory, Role
from agents.exceptions import CsrfFailed, EnrolmentRequired, Forbidden
from agents.sessions import Sessions
from agents.tokens import Tokens
from core.db import make_engine, migrate
from core.settings import AccountSettings
from tests.accounts import authenticator, make_admin

ADMIN_TOKEN = "admin-t0ken"
LEADS = frozenset({Role.SHIFT_LEAD, Role.ADMIN})
EVERYONE = frozenset(Role)


def request(
    method: str = "GET", token: str | None = None, cookie: str | None = None, csrf: str | None = None
) -> Request:
    headers = []
    if token is not None:
        headers.append((b"authorization", f"Bearer {token}".encode()))
    if cookie is not None:
        headers.append((b"cookie", f"{COOKIE}={cookie}".encode()))
    if csrf is not None:
        headers.append((b"x-csrf-token", csrf.encode()))
    return Request({"type": "http", "method": method, "path": "/api/x", "headers": headers})


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'hotline.sqlite3'}")
    migrate(engine)
    return engine


@pytest.fixture
def auth(engine: Engine) -> Authenticator:
    return authenticator(engine, admin_token=ADMIN_TOKEN)


def lead(engine: Engine, who: str = "lead-1") -> str:
    """A shift lead; their own API token."""
    return OperatorDirectory(engine).create(who, "Lead", Role.SHIFT_LEAD, {}).api_token


def machine(engine: Engine, *scopes: str) -> str:
    token, _ = Tokens(engine).create("exporter", list(scopes), 30, "admin")
    return token


def page(engine: Engine, who: str, settings: AccountSettings | None = None) -> tuple[str, str]:
    """A signed-in page of this person: the cookie's secret and the CSRF token."""
    secret, found = Sessions(engine, settings or AccountSettings()).open(who)
    return secret, found.csrf


def kiosk(engine: Engine) -> str:
    """A paired kiosk wallboard's cookie secret."""
    sessions = Sessions(engine, AccountSettings())
    code, _ = sessions.issue_kiosk("hall tv", "admin")
    secret, _ = sessions.pair(code)
    return secret


# -- a person's own token ------------------------------------------------------------------------
def test_a_persons_own_token_is_admitted_by_their_role(engine: Engine, auth: Authenticator) -> None:
    operator = OperatorDirectory(engine).create("op-1", "Op", Role.OPERATOR, {}).api_token
    admin = auth.admit(request("POST", ADMIN_TOKEN), frozenset({Role.ADMIN}), "ivr")
    assert (admin.name, admin.role, admin.operator, admin.kind) == ("admin", Role.ADMIN, True, "personal")
    assert auth.admit(request(token=lead(engine)), LEADS, "records").name == "lead-1"
    assert auth.admit(request(token=operator), EVERYONE, "desk").name == "op-1"
    with pytest.raises(Forbidden, match="needs the role admin, shift_lead; you are operator"):
        auth.admit(request(token=operator), LEADS, "records")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ([], "sign in first"),
        ([(b"authorization", b"Basic YWRtaW46eA==")], "only bearer tokens are taken"),
        ([(b"authorization", b"Bearer no-such-token")], "this token is not valid"),
        ([(b"authorization", b"Bearer hlt_0123456789abcdef_" + b"x" * 43)], "unknown, revoked or expired"),
        ([(b"cookie", f"{COOKIE}=no-such-session".encode())], "this session has ended"),
    ],
)
def test_nobody_known_is_unauthorized(
    auth: Authenticator, headers: list[tuple[bytes, bytes]], message: str
) -> None:
    nobody = Request({"type": "http", "method": "GET", "path": "/api/x", "headers": headers})
    with pytest.raises(Unauthorized, match=message):
        auth.admit(nobody, EVERYONE, "records")


# -- a machine's token ---------------------------------------------------------------------------
def test_a_machine_token_is_admitted_by_its_scopes_only(engine: Engine, auth: Authenticator) -> None:
    token = machine(engine, "records:read", "ivr:write")
    admitted = auth.admit(request(token=token), LEADS, "records")
    assert admitted.kind == "token" and not admitted.operator and admitted.name.startswith("token:exporter#")
    assert auth.admit(request("PUT", token), frozenset({Role.ADMIN}), "ivr").scopes == {
        "records:read",
        "ivr:write",
    }
    refusals = [
        (request("POST", token), "records", "the scope records:write"),  # reads, not changes
        (request(token=token), "ivr", "the scope ivr:read"),  # write is not read
        (request(token=token), "audit", "the scope audit:read"),
        (request(token=token), None, "a person's sign-in"),  # a route of no area: people only
    ]
    for asked, area, message in refusals:
        with pytest.raises(Forbidden, match=message):
            auth.admit(asked, frozenset({Role.ADMIN}), area)


def test_a_revoked_expired_or_misspelt_machine_token_is_unauthorized(
    engine: Engine, auth: Authenticator
) -> None:
    tokens = Tokens(engine)
    revoked, about = tokens.create("old", ["records:read"], 30, "admin")
    tokens.revoke(about.id)
    expired, _ = Tokens(engine, clock=lambda: about.created_at.replace(year=2000)).create(
        "older", ["records:read"], 1, "admin"
    )
    good = machine(engine, "records:read")
    wrong_secret = good[:-1] + ("A" if good[-1] != "A" else "B")
    for token in (revoked, expired, wrong_secret):
        with pytest.raises(Unauthorized, match="unknown, revoked or expired"):
            auth.admit(request(token=token), LEADS, "records")
    assert auth.admit(request(token=good), LEADS, "records").kind == "token"


# -- a page's session and a kiosk ---------------------------------------------------------------
def test_a_session_is_admitted_by_its_persons_role_and_a_change_needs_its_csrf_token(
    engine: Engine, auth: Authenticator
) -> None:
    lead(engine)
    cookie, csrf = page(engine, "lead-1")
    read = auth.admit(request(cookie=cookie), LEADS, "records")
    assert (read.name, read.role, read.kind, read.operator) == ("lead-1", Role.SHIFT_LEAD, "session", True)
    assert auth.admit(request("POST", cookie=cookie, csrf=csrf), LEADS, "wallboard").name == "lead-1"
    for csrf_sent in (None, "", csrf[:-1], "another-sessions-token"):
        with pytest.raises(CsrfFailed, match="needs the session's token in x-csrf-token"):
            auth.admit(request("POST", cookie=cookie, csrf=csrf_sent), LEADS, "wallboard")
    with pytest.raises(CsrfFailed):
        auth.admit(request("DELETE", cookie=cookie), LEADS, "wallboard")
    with pytest.raises(Forbidden, match="you are shift_lead"):
        auth.admit(request(cookie=cookie), frozenset({Role.ADMIN}), "audit")


def test_a_bearer_token_needs_no_csrf_token(engine: Engine, auth: Authenticator) -> None:
    """CSRF is a browser's cookie sent by another site; a bearer token is never sent by itself."""
    assert auth.admit(request("POST", ADMIN_TOKEN), frozenset({Role.ADMIN}), "ivr").name == "admin"
    assert auth.admit(request("POST", machine(engine, "ivr:write")), frozenset({Role.ADMIN}), "ivr")


def test_a_session_whose_role_needs_a_second_factor_enrols_first(engine: Engine) -> None:
    lead(engine)
    settings = AccountSettings(totp_roles=["shift_lead"])
    auth = Authenticator(OperatorDirectory(engine), Sessions(engine, settings), Tokens(engine))
    cookie, _ = page(engine, "lead-1", settings)
    with pytest.raises(EnrolmentRequired):
        auth.admit(request(cookie=cookie), LEADS, "records")
    assert auth.admit(request(cookie=cookie), LEADS, None, enrolling=True).name == "lead-1"


def test_a_kiosk_reads_the_wallboard_and_nothing_else(engine: Engine, auth: Authenticator) -> None:
    cookie = kiosk(engine)
    board = auth.admit(request(cookie=cookie), LEADS, "wallboard")
    assert (board.name, board.kind, board.operator, board.scopes) == (
        "kiosk:hall tv",
        "kiosk",
        False,
        {"wallboard:read"},
    )
    with pytest.raises(Forbidden, match="the scope wallboard:write"):
        auth.admit(
            request("POST", cookie=cookie, csrf=board.session.csrf if board.session else ""),
            LEADS,
            "wallboard",
        )
    for area in ("records", "operators", "reports", "accounts", None):
        with pytest.raises(Forbidden):
            auth.admit(request(cookie=cookie), EVERYONE, area)


# -- still_admits --------------------------------------------------------------------------------
async def test_every_kind_of_credential_stays_admitted_while_in_force(
    engine: Engine, auth: Authenticator
) -> None:
    still = auth.still_admits(LEADS, "wallboard")
    cookie, _ = page(engine, make_admin(engine, ADMIN_TOKEN))
    for asked in (
        request(token=ADMIN_TOKEN),
        request(token=lead(engine)),
        request(token=machine(engine, "wallboard:read")),
        request(cookie=cookie),
        request(cookie=kiosk(engine)),
    ):
        assert await still(asked)
    assert not await still(request(token=machine(engine, "records:read")))  # no wallboard scope


@pytest.mark.parametrize("revoke", ["deactivated", "token-reset", "demoted"])
async def test_a_revoked_lead_is_admitted_no_more(engine: Engine, auth: Authenticator, revoke: str) -> None:
    directory = OperatorDirectory(engine)
    token = lead(engine)
    cookie, _ = page(engine, "lead-1")
    still = auth.still_admits(LEADS, "wallboard")
    if revoke == "deactivated":
        directory.update("lead-1", active=False)
    elif revoke == "token-reset":
        directory.reset_credentials("lead-1")
        Sessions(engine, AccountSettings()).end_all("lead-1")  # as the reset route does
    else:
        directory.update("lead-1", role=Role.OPERATOR)
    assert not await still(request(token=token))
    assert not await still(request(cookie=cookie))
    assert not await still(request(token="no-such-token"))


async def test_a_deactivated_persons_session_ends_even_before_the_sessions_are_ended(
    engine: Engine, auth: Authenticator
) -> None:
    """Deactivation is read with every session (the route also ends them, tests/agents/test_accounts.py)."""
    lead(engine)
    cookie, _ = page(engine, "lead-1")
    OperatorDirectory(engine).update("lead-1", active=False)
    assert not await auth.still_admits(LEADS, "wallboard")(request(cookie=cookie))


async def test_sign_out_token_revocation_and_a_revoked_kiosk_end_a_stream(
    engine: Engine, auth: Authenticator
) -> None:
    still = auth.still_admits(LEADS, "wallboard")
    sessions, tokens = Sessions(engine, AccountSettings()), Tokens(engine)
    lead(engine)
    cookie, _ = page(engine, "lead-1")
    token, about = tokens.create("board", ["wallboard:read"], 1, "admin")
    tv = kiosk(engine)
    assert (
        await still(request(cookie=cookie))
        and await still(request(token=token))
        and await still(request(cookie=tv))
    )
    sessions.end(cookie)
    tokens.revoke(about.id)
    sessions.revoke_kiosk(sessions.kiosks()[0].id)
    assert not await still(request(cookie=cookie))
    assert not await still(request(token=token))
    assert not await still(request(cookie=tv))


async def test_a_database_that_cannot_be_read_has_revoked_nothing(
    engine: Engine, auth: Authenticator
) -> None:
    """Revoking is a database write: while accounts, sessions and tokens cannot be read, open
    streams stay."""
    token = lead(engine)
    cookie, _ = page(engine, "lead-1")
    board = machine(engine, "wallboard:read")
    still = auth.still_admits(LEADS, "wallboard")
    with engine.begin() as connection:
        for table in ("operators", "sessions", "api_tokens"):
            connection.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    for asked in (request(token=token), request(cookie=cookie), request(token=board)):
        assert await still(asked)


# -- the guard -----------------------------------------------------------------------------------
async def test_an_operators_token_is_looked_up_in_a_worker_thread_by_its_index(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every request's guard: an operator's token is a database read, never on the loop (it
    was a scan of every operator, on the loop, for each request)."""
    directory = OperatorDirectory(engine)
    for n in range(3):
        directory.create(f"op-{n}", f"Op {n}", Role.OPERATOR, {})
    token = lead(engine)
    threads: list[str] = []
    looked_up = directory.authenticate

    def authenticate(token: str) -> object:
        threads.append(threading.current_thread().name)
        return looked_up(token)

    monkeypatch.setattr(directory, "authenticate", authenticate)
    check = authenticator(engine, directory).guard(LEADS, "records")
    principal = await check(request(token=token), None, None)
    assert principal.name == "lead-1"
    assert threads and threads[0] != threading.main_thread().name
    assert "ix_operators_token_hash" in {i["name"] for i in inspect(engine).get_indexes("operators")}


async def test_the_guard_keeps_who_for_the_audit_trail(engine: Engine, auth: Authenticator) -> None:
    asked = request(token=machine(engine, "records:read"))
    principal = await auth.guard(LEADS, "records")(asked, None, None)
    assert asked.state.principal == principal and principal.kind == "token"


async def test_while_the_database_is_away_a_credential_seen_before_is_taken_as_it_was(
    engine: Engine, auth: Authenticator
) -> None:
    """An admin reads /healthz's details in an outage: nothing has been revoked while the
    database cannot be written. A credential never seen is not taken; one refused before is
    not remembered; a revocation in this process forgets them all."""
    token = machine(engine, "metrics:read")
    cookie, _ = page(engine, make_admin(engine, ADMIN_TOKEN))
    seen = [request(token=ADMIN_TOKEN), request(token=token), request(cookie=cookie)]
    for asked in seen:
        auth.admit(asked, frozenset({Role.ADMIN}), "metrics")
    never = request(token=machine(engine, "metrics:read"))
    reset = lead(engine)
    auth.admit(request(token=reset), LEADS, "metrics")
    OperatorDirectory(engine).reset_credentials("lead-1")  # by another process: no revoked() here
    with pytest.raises(Unauthorized):
        auth.admit(request(token=reset), LEADS, "metrics")
    with engine.begin() as connection:
        for table in ("operators", "sessions", "api_tokens"):
            connection.execute(text(f"ALTER TABLE {table} RENAME TO {table}_away"))
    for asked in seen:
        assert auth.admit(asked, frozenset({Role.ADMIN}), "metrics").role is Role.ADMIN
    with pytest.raises(Forbidden):  # as it was: its scopes still decide
        auth.admit(request(token=token), frozenset({Role.ADMIN}), "records")
    for unknown in (never, request(token=reset)):  # a 503 database_unavailable to the client
        with pytest.raises(SQLAlchemyError):
            auth.admit(unknown, LEADS, "metrics")
    auth.revoked()
    with pytest.raises(SQLAlchemyError):
        auth.admit(request(token=ADMIN_TOKEN), frozenset({Role.ADMIN}), "metrics")
