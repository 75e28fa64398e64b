"""Call control over HTTP (issue 16, items 5 and 6): ``POST /api/operators/{id}/transfer``,
``/conference``, ``/emergency`` and ``/leave``. The operator with their own token acts on their
own call; seniors, shift leads and admins on anyone's."""

# No "from __future__ import annotations": FastAPI reads the local Annotated aliases eagerly.

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field, model_validator

from agents.auth import Principal
from agents.directory import Role
from agents.exceptions import Forbidden, NotInCall, UnknownOperator
from core.errors import problems
from core.types import Guard
from desk.control import CallControl, DeskAction, Mode
from desk.exceptions import CallControlFailed, NoEmergencyLine, UnknownQueue, UnknownReferral

ACTS_FOR_OTHERS = {Role.SENIOR, Role.SHIFT_LEAD, Role.ADMIN}
Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TransferTo(_Body):
    """One of: a queue by name, a referral (partner line, interpreter) by id."""

    queue: Slug | None = None
    referral: Slug | None = None

    @model_validator(mode="after")
    def _one(self) -> "TransferTo":
        if (self.queue is None) == (self.referral is None):
            raise ValueError("name either a queue or a referral")
        return self


class TransferRequest(_Body):
    mode: Mode = Field(description="warm: the operator talks to the partner first; blind: at once")
    to: TransferTo


class ConferenceRequest(_Body):
    referral: Slug = Field(description="the partner line or interpreter to bring into the call")


class DeskActionPublic(BaseModel):
    """What was done; the call is its record's ``call_id``. No number: targets by name or id."""

    action: str
    operator: str
    by: str
    at: datetime
    call_id: str
    queue: str
    topic: str | None
    target_kind: Literal["queue", "referral", "emergency"] | None
    target: str | None

    @classmethod
    def of(cls, done: DeskAction) -> "DeskActionPublic":
        return cls(
            action=done.action.value,
            operator=done.operator,
            by=done.by,
            at=done.at,
            call_id=done.call.call_id,
            queue=done.queue,
            topic=done.topic,
            target_kind=None if done.target is None else done.target.kind,
            target=None if done.target is None else done.target.id,
        )


def control_router(control: CallControl, guard: Guard, lookup: Callable[[str], object]) -> APIRouter:
    """``guard`` admits every role; ``lookup(operator)`` raises UnknownOperator for an unknown
    one (a database read: run off the loop)."""
    api = APIRouter(prefix="/api/operators", tags=["operators"])
    anyone = Annotated[Principal, Depends(guard)]

    async def allowed(principal: Principal, operator_id: str) -> str:
        if principal.name != operator_id and principal.role not in ACTS_FOR_OTHERS:
            raise Forbidden(
                "operators act only on their own call; seniors, shift leads and admins on anyone's"
            )
        await asyncio.to_thread(lookup, operator_id)
        return principal.name

    @api.post(
        "/{operator_id}/transfer",
        response_model=DeskActionPublic,
        responses=problems(
            Forbidden, UnknownOperator, NotInCall, UnknownQueue, UnknownReferral, CallControlFailed
        ),
        summary="Hand the caller to a queue or a partner line: warm (talk to them first) or blind",
    )
    async def transfer(operator_id: str, body: TransferRequest, principal: anyone) -> DeskActionPublic:
        by = await allowed(principal, operator_id)
        done = await control.transfer(operator_id, by, body.mode, body.to.queue, body.to.referral)
        return DeskActionPublic.of(done)

    @api.post(
        "/{operator_id}/conference",
        response_model=DeskActionPublic,
        responses=problems(Forbidden, UnknownOperator, NotInCall, UnknownReferral, CallControlFailed),
        summary="Bring a partner line or interpreter into the call; the operator may then leave",
    )
    async def conference(operator_id: str, body: ConferenceRequest, principal: anyone) -> DeskActionPublic:
        by = await allowed(principal, operator_id)
        return DeskActionPublic.of(await control.conference(operator_id, by, body.referral))

    @api.post(
        "/{operator_id}/emergency",
        response_model=DeskActionPublic,
        responses=problems(Forbidden, UnknownOperator, NotInCall, NoEmergencyLine, CallControlFailed),
        summary="Imminent risk: bring the document's emergency line into the call; shift leads are alerted",
    )
    async def emergency(operator_id: str, principal: anyone) -> DeskActionPublic:
        by = await allowed(principal, operator_id)
        return DeskActionPublic.of(await control.emergency(operator_id, by))

    @api.post(
        "/{operator_id}/leave",
        response_model=DeskActionPublic,
        responses=problems(Forbidden, UnknownOperator, NotInCall, CallControlFailed),
        summary="End the operator's leg: completes a warm transfer, leaves a conference",
    )
    async def leave(operator_id: str, principal: anyone) -> DeskActionPublic:
        by = await allowed(principal, operator_id)
        return DeskActionPublic.of(await control.leave(operator_id, by))

    return api
