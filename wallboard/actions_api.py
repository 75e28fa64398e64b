"""The wallboard's actions over HTTP (issue 17, item 4), for shift leads and admins (operators
get a 403): pause, resume, log out an operator, move one into or out of a queue for the rest of
the shift, acknowledge an alert, and the record of every such action."""

# No "from __future__ import annotations": FastAPI reads the local Annotated aliases eagerly.

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from agents.auth import Principal
from agents.exceptions import (
    AlreadyInQueue,
    NotInQueue,
    NotLoggedIn,
    ReservedPauseReason,
    UnknownOperator,
    UnknownQueue,
)
from agents.presence import PauseReason, PresenceFailed
from core.errors import problems
from core.types import Guard
from wallboard.actions import WallboardActions
from wallboard.alerts import AlertAcknowledged, AlertNotFound

OPERATOR = "/operators/{operator_id}"
PRESENCE_ERRORS = (UnknownOperator, NotLoggedIn, PresenceFailed)


class LeadPause(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: PauseReason = PauseReason.SUPERVISION


class Done(BaseModel):
    action: str
    operator: str | None = None
    target: str | None = None
    result: str = "ok"


class Acknowledged(BaseModel):
    alert: str
    by: str
    at: datetime


class ActionPublic(BaseModel):
    at: datetime
    by: str = Field(description="the shift lead (or admin) who acted")
    action: str = Field(
        description="pause, resume, logout, queue_add, queue_remove, acknowledge, debrief_start, …"
    )
    operator: str | None = Field(description="whom")
    target: str | None = Field(description="the pause reason, queue, alert or debrief")
    result: str = Field(description="ok, or the error_id it was refused with")


def actions_router(actions: WallboardActions, lead: Guard) -> APIRouter:
    router = APIRouter(prefix="/api/wallboard", tags=["wallboard"])
    leads = Annotated[Principal, Depends(lead)]

    @router.post(
        f"{OPERATOR}/pause", response_model=Done, responses=problems(*PRESENCE_ERRORS, ReservedPauseReason)
    )
    async def pause(operator_id: str, body: LeadPause, principal: leads) -> Done:
        """As ``POST /api/operators/{id}/pause`` by a shift lead: QueuePause with the reason."""
        await actions.pause(principal.name, operator_id, body.reason)
        return Done(action="pause", operator=operator_id, target=body.reason.value)

    @router.post(f"{OPERATOR}/resume", response_model=Done, responses=problems(*PRESENCE_ERRORS))
    async def resume(operator_id: str, principal: leads) -> Done:
        await actions.resume(principal.name, operator_id)
        return Done(action="resume", operator=operator_id)

    @router.post(
        f"{OPERATOR}/logout", response_model=Done, responses=problems(UnknownOperator, PresenceFailed)
    )
    async def logout(operator_id: str, principal: leads) -> Done:
        await actions.logout(principal.name, operator_id)
        return Done(action="logout", operator=operator_id)

    @router.put(
        f"{OPERATOR}/queues/{{queue}}",
        response_model=Done,
        responses=problems(*PRESENCE_ERRORS, UnknownQueue, AlreadyInQueue),
    )
    async def move_in(operator_id: str, queue: str, principal: leads) -> Done:
        """Into the queue until the operator logs out (then their skills' queues apply again)."""
        await actions.move(principal.name, operator_id, queue, into=True)
        return Done(action="queue_add", operator=operator_id, target=queue)

    @router.delete(
        f"{OPERATOR}/queues/{{queue}}",
        response_model=Done,
        responses=problems(*PRESENCE_ERRORS, UnknownQueue, NotInQueue),
    )
    async def move_out(operator_id: str, queue: str, principal: leads) -> Done:
        """Out of the queue until the operator logs out."""
        await actions.move(principal.name, operator_id, queue, into=False)
        return Done(action="queue_remove", operator=operator_id, target=queue)

    @router.post(
        "/alerts/{alert_id}/acknowledge",
        response_model=Acknowledged,
        responses=problems(AlertNotFound, AlertAcknowledged),
    )
    async def acknowledge(alert_id: str, principal: leads) -> Acknowledged:
        return Acknowledged.model_validate(await actions.acknowledge(principal.name, alert_id))

    @router.get("/actions", response_model=list[ActionPublic])
    async def recorded(
        _: leads,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        operator: Annotated[str | None, Query(max_length=40)] = None,
    ) -> list[ActionPublic]:
        rows = await asyncio.to_thread(actions.log.recent, limit, operator)
        return [ActionPublic.model_validate(r) for r in rows]

    return router
