"""Debrief requests over HTTP (issue 17, item 3). The operator asks for one with their own token
(``POST /api/operators/{id}/debriefs``; a shift lead or admin may ask for them) and reads their
own; shift leads and admins list them and start and close them. A lead's start or close is also
one of the lead's recorded actions (``record``: the wallboard's action log, wired by the shell)."""

# No "from __future__ import annotations": FastAPI reads the local Annotated aliases eagerly.

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, status
from pydantic import BaseModel, ConfigDict, Field

from agents.auth import Principal
from agents.debriefs import Debrief, Debriefs
from agents.directory import Role
from agents.exceptions import (
    DebriefCallNotFound,
    DebriefClosed,
    DebriefNotFound,
    DebriefOpen,
    DebriefPersonalData,
    Forbidden,
    UnknownOperator,
)
from agents.presence import PresenceFailed
from core.errors import DomainError, problems
from core.types import Guard

LEADS = {Role.SHIFT_LEAD, Role.ADMIN}
# (by, action, operator, target, result): one of the lead's actions, recorded
Recorder = Callable[[str, str, str | None, str | None, str], Awaitable[None]]
RecordId = Annotated[str, Field(pattern=r"^[A-Za-z0-9._:-]{1,64}$")]
Note = Annotated[str, Field(max_length=200)]
DebriefId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the request's number")]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DebriefAsk(_Body):
    record_id: RecordId | None = Field(None, description="the call it is about: the operator's own")
    note: Note | None = Field(None, description="short; no personal data (refused)")
    suggested: bool = Field(False, description="asked from the burnout guard's suggestion")


class DebriefClose(_Body):
    outcome: Note | None = Field(None, description="how it went; no personal data (refused)")
    resume: bool = Field(True, description="end the debrief pause its start began")


class DebriefPublic(BaseModel):
    id: int
    operator: str
    state: str = Field(description="open, started or closed")
    record_id: str | None
    note: str | None
    suggested: bool
    requested_at: datetime
    started_at: datetime | None
    started_by: str | None
    paused: bool = Field(description="its start paused the operator with reason debrief")
    closed_at: datetime | None
    closed_by: str | None
    outcome: str | None

    @classmethod
    def of(cls, d: Debrief) -> "DebriefPublic":
        return cls(
            id=d.id,
            operator=d.operator,
            state=d.state,
            record_id=d.record_id,
            note=d.note,
            suggested=d.suggested,
            requested_at=d.requested_at,
            started_at=d.started_at,
            started_by=d.started_by,
            paused=d.paused,
            closed_at=d.closed_at,
            closed_by=d.closed_by,
            outcome=d.outcome,
        )


def debriefs_router(
    debriefs: Debriefs, anyone: Guard, lead: Guard, record: Recorder | None = None
) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["debriefs"])
    everyone = Annotated[Principal, Depends(anyone)]
    leads = Annotated[Principal, Depends(lead)]

    def self_or_lead(principal: Principal, operator_id: str) -> None:
        if principal.name != operator_id and principal.role not in LEADS:
            raise Forbidden("operators may ask for their own debrief only; shift leads for anyone")

    async def recorded(by: str, action: str, debrief_id: int, act: Awaitable[Debrief]) -> Debrief:
        try:
            done = await act
        except DomainError as exc:
            if record is not None:
                await record(by, action, None, f"debrief {debrief_id}", exc.error_id)
            raise
        if record is not None:
            await record(by, action, done.operator, f"debrief {debrief_id}", "ok")
        return done

    @router.post(
        "/operators/{operator_id}/debriefs",
        response_model=DebriefPublic,
        status_code=status.HTTP_201_CREATED,
        responses=problems(UnknownOperator, DebriefOpen, DebriefCallNotFound, DebriefPersonalData),
    )
    async def ask(operator_id: str, body: DebriefAsk, principal: everyone) -> DebriefPublic:
        self_or_lead(principal, operator_id)
        made = await debriefs.request(operator_id, body.record_id, body.note, body.suggested)
        return DebriefPublic.of(made)

    @router.get(
        "/operators/{operator_id}/debriefs",
        response_model=list[DebriefPublic],
        responses=problems(UnknownOperator),
    )
    async def mine(operator_id: str, principal: everyone) -> list[DebriefPublic]:
        self_or_lead(principal, operator_id)
        return [DebriefPublic.of(d) for d in await debriefs.recent(operator_id)]

    @router.get("/debriefs", response_model=list[DebriefPublic])
    async def listed(
        _: leads, open_only: Annotated[bool, Query(alias="open", description="only those not closed")] = False
    ) -> list[DebriefPublic]:
        found = debriefs.open_now() if open_only else await debriefs.recent()
        return [DebriefPublic.of(d) for d in found]

    @router.post(
        "/debriefs/{debrief_id}/start",
        response_model=DebriefPublic,
        responses=problems(DebriefNotFound, DebriefClosed, PresenceFailed),
    )
    async def start(debrief_id: DebriefId, principal: leads) -> DebriefPublic:
        """The operator (when logged in) is paused with reason debrief; the request records it."""
        done = await recorded(
            principal.name, "debrief_start", debrief_id, debriefs.start(debrief_id, principal.name)
        )
        return DebriefPublic.of(done)

    @router.post(
        "/debriefs/{debrief_id}/close",
        response_model=DebriefPublic,
        responses=problems(DebriefNotFound, DebriefClosed, DebriefPersonalData, PresenceFailed),
    )
    async def close(debrief_id: DebriefId, body: DebriefClose, principal: leads) -> DebriefPublic:
        act = debriefs.close(debrief_id, principal.name, body.outcome, body.resume)
        return DebriefPublic.of(await recorded(principal.name, "debrief_close", debrief_id, act))

    return router
