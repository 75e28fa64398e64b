"""HTTP API of the agents room: operator accounts (admin), presence (the operator, a shift lead
or an admin), live state, and what to type into a softphone.

An account change is saved, then carried to Asterisk by ``sync`` (in a room above this one).
A node that cannot take it now gets it when it is back: the answer still shows the one-time
secrets, and ``asterisk.pending`` (here and in every later read) names the nodes still waiting."""

# No "from __future__ import annotations": FastAPI reads the local Annotated aliases eagerly.

import asyncio
from collections.abc import Callable, Mapping
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, Request, status

from agents.auth import Authenticator, Principal
from agents.directory import Credentials, Operator, OperatorDirectory, Role
from agents.exceptions import (
    Forbidden,
    LastAdmin,
    NoEscalationQueue,
    NotInCall,
    NotLoggedIn,
    OperatorExists,
    ReservedPauseReason,
    UnknownOperator,
)
from agents.guard import BurnoutGuard
from agents.pauses import PauseWriter
from agents.presence import PauseSource, Presence, PresenceFailed
from agents.schemas import (
    CreatedPublic,
    OperatorCreate,
    OperatorPublic,
    OperatorUpdate,
    PausePublic,
    PauseRequest,
    SoftphonePublic,
    StatePublic,
)
from agents.sessions import Sessions
from agents.state import OperatorBoard
from core.audit import changes, note
from core.errors import problems
from telephony import variables as v

LEADS = {Role.SHIFT_LEAD, Role.ADMIN}


def machine_limits(principal: Principal, *roles: Role | None) -> None:
    """A machine token with operators:write alone makes, changes or resets no admin and no
    shift lead: that needs the scope staff:write as well, granted on purpose (an admin signed
    in needs nothing more)."""
    if (
        principal.kind == "token"
        and "staff:write" not in (principal.scopes or ())
        and any(r in LEADS for r in roles)
    ):
        raise Forbidden(
            "a machine token needs the scope staff:write to make, change or reset an admin or a shift lead"
        )


EVERYONE = set(Role)


class AccountSync(Protocol):
    """Carries saved account changes to Asterisk (dialplan/sync.py)."""

    async def changed(self, operator_id: str) -> Mapping[str, str]:
        """Apply now; the nodes where the change waits, with why (empty: applied)."""

    def waiting(self, operator_id: str) -> Mapping[str, str]: ...


def operators_router(
    directory: OperatorDirectory,
    presence: Presence,
    board: OperatorBoard,
    auth: Authenticator,
    softphone: Callable[[Operator], SoftphonePublic],
    sync: AccountSync,
    guard: BurnoutGuard,
    pauses: PauseWriter,
    escalation_queue: Callable[[], str | None],
    sessions: Sessions,
) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["operators"])
    admin = Annotated[Principal, Depends(auth.guard({Role.ADMIN}, "operators"))]
    lead = Annotated[Principal, Depends(auth.guard(LEADS, "operators"))]
    anyone = Annotated[Principal, Depends(auth.guard(EVERYONE, "operators"))]

    def public(operator: Operator) -> OperatorPublic:
        state = StatePublic.of(board.state(operator.id), guard.notices(operator.id))
        return OperatorPublic.of(operator, state, sync.waiting(operator.id))

    async def current(operator_id: str) -> OperatorPublic:
        return public(await asyncio.to_thread(directory.get, operator_id))

    async def created(operator_id: str, credentials: Credentials) -> CreatedPublic:
        """The only answer that shows the secrets: right after they are made."""
        operator = await asyncio.to_thread(directory.get, operator_id)
        return CreatedPublic(
            operator=public(operator),
            softphone=softphone(operator).model_copy(update={"password": credentials.sip_password}),
            api_token=credentials.api_token,
            password=credentials.password,
        )

    def active_admins() -> int:
        return sum(1 for o in directory.all(active_only=True) if o.role is Role.ADMIN)

    def self_or_lead(principal: Principal, operator_id: str) -> None:
        if principal.name != operator_id and principal.role not in LEADS:
            raise Forbidden("operators may change only their own presence; shift leads and admins anyone's")

    @router.post(
        "/operators",
        response_model=CreatedPublic,
        status_code=status.HTTP_201_CREATED,
        responses=problems(OperatorExists),
    )
    async def create(body: OperatorCreate, principal: admin) -> CreatedPublic:
        machine_limits(principal, body.role)
        credentials = await asyncio.to_thread(
            directory.create, body.id, body.display_name, body.role, body.skills
        )
        await sync.changed(body.id)  # Asterisk learns the new softphone account, now or when back
        return await created(body.id, credentials)

    @router.get("/operators", response_model=list[OperatorPublic])
    async def list_operators(_: lead) -> list[OperatorPublic]:
        return [public(o) for o in await asyncio.to_thread(directory.all)]

    @router.get(
        "/operators/{operator_id}", response_model=OperatorPublic, responses=problems(UnknownOperator)
    )
    async def get_operator(operator_id: str, principal: anyone) -> OperatorPublic:
        self_or_lead(principal, operator_id)
        return await current(operator_id)

    @router.patch(
        "/operators/{operator_id}",
        response_model=OperatorPublic,
        responses=problems(UnknownOperator, LastAdmin),
    )
    async def update(
        operator_id: str, body: OperatorUpdate, principal: admin, request: Request
    ) -> OperatorPublic:
        before = await asyncio.to_thread(directory.get, operator_id)
        machine_limits(principal, before.role, body.role)
        leaving = (
            before.role is Role.ADMIN
            and before.active
            and (body.active is False or body.role not in (None, Role.ADMIN))
        )
        if leaving and await asyncio.to_thread(active_admins) <= 1:
            raise LastAdmin("this is the last active admin: make another admin first")
        operator = await asyncio.to_thread(
            directory.update, operator_id, body.display_name, body.role, body.skills, body.active
        )
        note(request, changed=changes(before, operator, ("display_name", "role", "skills", "active")))
        if not operator.active:
            ended = await asyncio.to_thread(sessions.end_all, operator_id)  # reads refuse them already
            note(request, sessions_ended=ended)
        auth.revoked()  # open streams ask again now: deactivated, or another role
        await sync.changed(operator.id)
        return public(operator)

    @router.post(
        "/operators/{operator_id}/credentials",
        response_model=CreatedPublic,
        responses=problems(UnknownOperator),
    )
    async def reset(operator_id: str, principal: admin, request: Request) -> CreatedPublic:
        """New softphone password, API token and one-time sign-in password; the person's
        sessions end."""
        machine_limits(principal, (await asyncio.to_thread(directory.get, operator_id)).role)
        credentials = await asyncio.to_thread(directory.reset_credentials, operator_id)
        note(request, sessions_ended=await asyncio.to_thread(sessions.end_all, operator_id))
        auth.revoked()
        await sync.changed(operator_id)
        return await created(operator_id, credentials)

    @router.post(
        "/operators/{operator_id}/login",
        response_model=OperatorPublic,
        responses=problems(UnknownOperator, PresenceFailed),
    )
    async def login(operator_id: str, principal: anyone) -> OperatorPublic:
        self_or_lead(principal, operator_id)
        await presence.login(operator_id)
        return await current(operator_id)

    @router.post(
        "/operators/{operator_id}/logout",
        response_model=OperatorPublic,
        responses=problems(UnknownOperator, PresenceFailed),
    )
    async def logout(operator_id: str, principal: anyone) -> OperatorPublic:
        self_or_lead(principal, operator_id)
        await presence.logout(operator_id)
        guard.forget(operator_id)
        return await current(operator_id)

    @router.post(
        "/operators/{operator_id}/pause",
        response_model=OperatorPublic,
        responses=problems(UnknownOperator, NotLoggedIn, PresenceFailed, ReservedPauseReason),
    )
    async def pause(operator_id: str, body: PauseRequest, principal: anyone) -> OperatorPublic:
        self_or_lead(principal, operator_id)
        source = PauseSource.OPERATOR if principal.name == operator_id else PauseSource.SHIFT_LEAD
        await presence.pause(operator_id, body.reason, source)
        return await current(operator_id)

    @router.post(
        "/operators/{operator_id}/resume",
        response_model=OperatorPublic,
        responses=problems(UnknownOperator, NotLoggedIn, PresenceFailed),
    )
    async def resume(operator_id: str, principal: anyone) -> OperatorPublic:
        self_or_lead(principal, operator_id)
        await presence.resume(operator_id)
        return await current(operator_id)

    @router.post(
        "/operators/{operator_id}/escalate",
        response_model=OperatorPublic,
        responses=problems(UnknownOperator, NoEscalationQueue, NotInCall, PresenceFailed),
    )
    async def escalate(operator_id: str, principal: anyone) -> OperatorPublic:
        """Hand the caller the operator is talking to on to the escalation queue, first in line."""
        self_or_lead(principal, operator_id)
        await asyncio.to_thread(directory.get, operator_id)  # unknown operator: 404
        if escalation_queue() is None:
            raise NoEscalationQueue("the live IVR names no escalation_queue; an admin can add one")
        in_call = board.call_channel(operator_id)
        if in_call is None:
            raise NotInCall(f"operator '{operator_id}' is not in a call")
        await presence.escalate(operator_id, in_call[0], in_call[1], v.CONTEXT_ESCALATE)
        return await current(operator_id)

    @router.get(
        "/operators/{operator_id}/pauses",
        response_model=list[PausePublic],
        responses=problems(UnknownOperator),
    )
    async def pause_history(operator_id: str, principal: anyone) -> list[PausePublic]:
        self_or_lead(principal, operator_id)
        await asyncio.to_thread(directory.get, operator_id)  # unknown operator: 404
        return [PausePublic.of(p) for p in await asyncio.to_thread(pauses.log.recent, operator_id)]

    @router.get("/me", response_model=OperatorPublic)
    async def me(principal: anyone) -> OperatorPublic:
        if not principal.operator:
            raise Forbidden("a machine's token is not a person; sign in, or use a person's own token")
        return await current(principal.name)

    @router.get("/me/softphone", response_model=SoftphonePublic)
    async def my_softphone(principal: anyone) -> SoftphonePublic:
        if not principal.operator:
            raise Forbidden("a machine's token has no softphone; sign in, or use a person's own token")
        return softphone(await asyncio.to_thread(directory.get, principal.name))

    return router
