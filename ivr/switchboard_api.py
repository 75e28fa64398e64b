"""Switchboarding over HTTP (issue 17, item 5), for shift leads and admins (the guard):
``POST /api/switchboard`` starts a redirect, ``GET /api/switchboard`` lists those in force and
the recent ones (with the live document's queues and partner lines to choose from),
``DELETE /api/switchboard/{id}`` ends one early."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol, runtime_checkable

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field, model_validator

from core.bounds import MAX_ID
from core.errors import problems
from core.types import Guard
from ivr.switchboard import (
    AlreadyRedirected,
    RedirectChain,
    RedirectLoop,
    RedirectNotActive,
    RedirectNotFound,
    RedirectToItself,
    Switchboard,
    SwitchboardUnavailable,
    UnknownQueue,
    UnknownReferral,
)
from ivr.switchboard_store import Redirect, State

SLUG = r"^[a-z][a-z0-9_-]{0,39}$"  # as ivr/document.py spells a queue name and a referral id


@runtime_checkable
class _Named(Protocol):
    name: str


def _who(principal: object) -> str:
    return principal.name if isinstance(principal, _Named) else "admin"


class SwitchboardRequest(BaseModel):
    """Send ``queue``'s new callers to ``target_queue`` or to the partner line
    ``target_referral`` (one of the two) for ``minutes`` (0.25, that is 15 s, to 1440)."""

    model_config = ConfigDict(extra="forbid")

    queue: str = Field(pattern=SLUG)
    target_queue: str | None = Field(default=None, pattern=SLUG)
    target_referral: str | None = Field(default=None, pattern=SLUG)
    minutes: float = Field(ge=0.25, le=1440, description="how long; fractions allowed (0.25 = 15 s)")

    @model_validator(mode="after")
    def _one_target(self) -> SwitchboardRequest:
        if (self.target_queue is None) == (self.target_referral is None):
            raise ValueError("name either a target_queue or a target_referral")
        return self


class RedirectPublic(BaseModel):
    id: int
    queue: str
    target_queue: str | None
    target_referral: str | None
    started_by: str
    started_at: datetime
    planned_end: datetime
    ended_at: datetime | None
    ended_by: str | None  # None with ended_at: it expired at its planned end
    state: State
    seconds_left: float  # 0 once it is not active

    @classmethod
    def of(cls, r: Redirect, now: datetime) -> RedirectPublic:
        state = r.state(now)
        left = max(0.0, round((r.planned_end - now).total_seconds(), 1)) if state == "active" else 0.0
        return cls(
            id=r.id,
            queue=r.queue,
            target_queue=r.target_queue,
            target_referral=r.target_referral,
            started_by=r.started_by,
            started_at=r.started_at,
            planned_end=r.planned_end,
            # an expiry not written down yet (within the second) is the planned end all the same
            ended_at=r.planned_end if state == "expired" else r.ended_at,
            ended_by=r.ended_by,
            state=state,
            seconds_left=left,
        )


class PartnerLine(BaseModel):
    id: str
    organisation: str


class SwitchboardPublic(BaseModel):
    active: list[RedirectPublic]
    recent: list[RedirectPublic]  # the newest 50, whatever their state
    queues: list[str]  # the live document's queues
    referrals: list[PartnerLine]  # and its partner lines (never their numbers)


def switchboard_router(switchboard: Switchboard, guard: Guard) -> APIRouter:
    """``guard`` admits shift leads and admins; who signed in is who started or ended it."""
    router = APIRouter(prefix="/api/switchboard", tags=["switchboard"], dependencies=[Depends(guard)])

    @router.get("", response_model=SwitchboardPublic, responses=problems(SwitchboardUnavailable))
    async def listing() -> SwitchboardPublic:
        recent = await switchboard.recent()
        at = switchboard.now()
        doc = switchboard.document()
        return SwitchboardPublic(
            active=[RedirectPublic.of(r, at) for r in switchboard.active()],
            recent=[RedirectPublic.of(r, at) for r in recent],
            queues=doc.queue_names(),
            referrals=[PartnerLine(id=r.id, organisation=r.organisation) for r in doc.referrals],
        )

    @router.post(
        "",
        response_model=RedirectPublic,
        status_code=201,
        responses=problems(
            UnknownQueue,
            UnknownReferral,
            RedirectToItself,
            RedirectLoop,
            RedirectChain,
            AlreadyRedirected,
            SwitchboardUnavailable,
        ),
        summary="Send a queue's new callers to another queue or a partner line for a while",
    )
    async def start(body: SwitchboardRequest, who: object = Depends(guard)) -> RedirectPublic:
        made = await switchboard.start(
            body.queue, body.target_queue, body.target_referral, timedelta(minutes=body.minutes), _who(who)
        )
        return RedirectPublic.of(made, switchboard.now())

    @router.delete(
        "/{redirect_id}",
        response_model=RedirectPublic,
        responses=problems(RedirectNotFound, RedirectNotActive, SwitchboardUnavailable),
        summary="End a redirect early: the queue takes its own new callers again",
    )
    async def end(redirect_id: int = Path(ge=1, le=MAX_ID), who: object = Depends(guard)) -> RedirectPublic:
        return RedirectPublic.of(await switchboard.end(redirect_id, _who(who)), switchboard.now())

    return router
