"""HTTP API of the agents room: operator accounts (admin), presence (the operator, a shift lead
or an admin), live state, and what to type into a softphone."""

# No "from __future__ import annotations": FastAPI reads the local Annotated aliases eagerly.

import asyncio
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, status

from agents.directory import Credentials, Operator, OperatorDirectory, Role
from agents.exceptions import Forbidden
from agents.presence import Presence
from agents.schemas import (
    CreatedPublic,
    OperatorCreate,
    OperatorPublic,
    OperatorUpdate,
    PauseRequest,
    SoftphonePublic,
    StatePublic,
)
from agents.state import OperatorBoard
from hotline.auth import Authenticator, Principal

LEADS = {Role.SHIFT_LEAD, Role.ADMIN}
EVERYONE = set(Role)
Reapply = Callable[[], Awaitable[None]]


def operators_router(
    directory: OperatorDirectory,
    presence: Presence,
    board: OperatorBoard,
    auth: Authenticator,
    softphone: Callable[[Operator], SoftphonePublic],
    reapply: Reapply,
) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["operators"])
    admin = Annotated[Principal, Depends(auth.guard({Role.ADMIN}))]
    lead = Annotated[Principal, Depends(auth.guard(LEADS))]
    anyone = Annotated[Principal, Depends(auth.guard(EVERYONE))]

    def public(operator: Operator) -> OperatorPublic:
        return OperatorPublic.of(operator, StatePublic.of(board.state(operator.id)))

    async def current(operator_id: str) -> OperatorPublic:
        return public(await asyncio.to_thread(directory.get, operator_id))

    async def created(operator_id: str, credentials: Credentials) -> CreatedPublic:
        """The only answer that shows the secrets: right after they are made."""
        operator = await asyncio.to_thread(directory.get, operator_id)
        return CreatedPublic(
            operator=public(operator),
            softphone=softphone(operator).model_copy(update={"password": credentials.sip_password}),
            api_token=credentials.api_token,
        )

    def self_or_lead(principal: Principal, operator_id: str) -> None:
        if principal.name != operator_id and principal.role not in LEADS:
            raise Forbidden("operators may change only their own presence; shift leads and admins anyone's")

    @router.post("/operators", response_model=CreatedPublic, status_code=status.HTTP_201_CREATED)
    async def create(body: OperatorCreate, _: admin) -> CreatedPublic:
        credentials = await asyncio.to_thread(
            directory.create, body.id, body.display_name, body.role, body.skills
        )
        await reapply()  # Asterisk learns the new softphone account
        return await created(body.id, credentials)

    @router.get("/operators", response_model=list[OperatorPublic])
    async def list_operators(_: lead) -> list[OperatorPublic]:
        return [public(o) for o in await asyncio.to_thread(directory.all)]

    @router.get("/operators/{operator_id}", response_model=OperatorPublic)
    async def get_operator(operator_id: str, principal: anyone) -> OperatorPublic:
        self_or_lead(principal, operator_id)
        return await current(operator_id)

    @router.patch("/operators/{operator_id}", response_model=OperatorPublic)
    async def update(operator_id: str, body: OperatorUpdate, _: admin) -> OperatorPublic:
        operator = await asyncio.to_thread(
            directory.update, operator_id, body.display_name, body.role, body.skills, body.active
        )
        await reapply()
        return public(operator)

    @router.post("/operators/{operator_id}/credentials", response_model=CreatedPublic)
    async def reset(operator_id: str, _: admin) -> CreatedPublic:
        credentials = await asyncio.to_thread(directory.reset_credentials, operator_id)
        await reapply()
        return await created(operator_id, credentials)

    @router.post("/operators/{operator_id}/login", response_model=OperatorPublic)
    async def login(operator_id: str, principal: anyone) -> OperatorPublic:
        self_or_lead(principal, operator_id)
        await presence.login(operator_id)
        return await current(operator_id)

    @router.post("/operators/{operator_id}/logout", response_model=OperatorPublic)
    async def logout(operator_id: str, principal: anyone) -> OperatorPublic:
        self_or_lead(principal, operator_id)
        await presence.logout(operator_id)
        return await current(operator_id)

    @router.post("/operators/{operator_id}/pause", response_model=OperatorPublic)
    async def pause(operator_id: str, body: PauseRequest, principal: anyone) -> OperatorPublic:
        self_or_lead(principal, operator_id)
        await presence.pause(operator_id, body.reason)
        return await current(operator_id)

    @router.post("/operators/{operator_id}/resume", response_model=OperatorPublic)
    async def resume(operator_id: str, principal: anyone) -> OperatorPublic:
        self_or_lead(principal, operator_id)
        await presence.resume(operator_id)
        return await current(operator_id)

    @router.get("/me/softphone", response_model=SoftphonePublic)
    async def my_softphone(principal: anyone) -> SoftphonePublic:
        if not principal.operator:
            raise Forbidden("the admin token has no softphone; use an operator's token")
        return softphone(await asyncio.to_thread(directory.get, principal.name))

    return router
