"""Supervision over HTTP (issue 17, items 1 and 2): ``POST /api/supervision`` (a senior, shift
lead or admin-role operator supervises an operator's call from their own softphone),
``PATCH``/``DELETE /api/supervision/{id}`` (switch the mode, end it: the supervisor, shift leads,
admins), ``GET /api/supervision`` and ``/{id}``: shift leads and admins see every session;
anyone else the sessions they held, and those about themselves once ended, plus the notice that
a supervisor hears their call now."""

# No "from __future__ import annotations": FastAPI reads the local Annotated aliases eagerly.

import asyncio
from collections.abc import Callable
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from agents.auth import Principal
from agents.directory import Role
from agents.exceptions import Forbidden, NotInCall, UnknownOperator
from core.errors import problems
from core.types import Guard
from supervision.exceptions import (
    NoSoftphone,
    SessionEnded,
    SessionNotFound,
    SupervisionConflict,
    SupervisionFailed,
)
from supervision.schemas import (
    Notice,
    SessionPublic,
    SupervisionList,
    SupervisionRequest,
    SwitchRequest,
)
from supervision.service import Supervision
from supervision.session import Session
from supervision.store import Filters

SUPERVISES = frozenset({Role.SENIOR, Role.SHIFT_LEAD, Role.ADMIN})
LEADS = frozenset({Role.SHIFT_LEAD, Role.ADMIN})


def _may_supervise(principal: Principal) -> None:
    if principal.role not in SUPERVISES:
        raise Forbidden("seniors, shift leads and admins supervise; operators do not")


def _may_see(principal: Principal, session: Session) -> bool:
    if principal.role in LEADS or session.supervisor == principal.name:
        return True
    return session.operator == principal.name and not session.live


def supervision_router(supervision: Supervision, guard: Guard, lookup: Callable[[str], object]) -> APIRouter:
    """``guard`` admits every role; ``lookup(operator)`` raises UnknownOperator for an unknown
    one (a database read: run off the loop)."""
    api = APIRouter(prefix="/api/supervision", tags=["supervision"])
    anyone = Annotated[Principal, Depends(guard)]

    async def held(principal: Principal, session_id: str) -> Session:
        """A session this principal may switch or end: their own, or any for leads."""
        _may_supervise(principal)
        session = await supervision.get(session_id)
        if principal.role not in LEADS and session.supervisor != principal.name:
            raise Forbidden("a session is switched or ended by its supervisor, a shift lead or an admin")
        return session

    @api.post(
        "",
        status_code=201,
        response_model=SessionPublic,
        responses=problems(
            Forbidden, NoSoftphone, UnknownOperator, NotInCall, SupervisionConflict, SupervisionFailed
        ),
        summary="Supervise an operator's call from your own softphone: listen, whisper or barge",
    )
    async def start(body: SupervisionRequest, principal: anyone) -> SessionPublic:
        _may_supervise(principal)
        if not principal.operator:
            raise NoSoftphone(
                "a supervisor needs their own softphone: sign in with your operator account's token"
            )
        await asyncio.to_thread(lookup, body.operator)
        return SessionPublic.of(await supervision.start(principal.name, body.operator, body.mode))

    @api.patch(
        "/{session_id}",
        response_model=SessionPublic,
        responses=problems(Forbidden, SessionNotFound, SessionEnded, SupervisionFailed),
        summary="Switch a session's mode",
    )
    async def switch(session_id: str, body: SwitchRequest, principal: anyone) -> SessionPublic:
        session = await held(principal, session_id)
        return SessionPublic.of(await supervision.switch(session.id, body.mode, principal.name))

    @api.delete(
        "/{session_id}",
        response_model=SessionPublic,
        responses=problems(Forbidden, SessionNotFound, SessionEnded, SupervisionFailed),
        summary="End a session: the supervisor's call is hung up",
    )
    async def stop(session_id: str, principal: anyone) -> SessionPublic:
        session = await held(principal, session_id)
        return SessionPublic.of(await supervision.stop(session.id, principal.name))

    @api.get(
        "",
        response_model=SupervisionList,
        summary="Sessions: every one for shift leads and admins; yours, and those about you once ended",
    )
    async def listing(
        principal: anyone,
        operator: Annotated[str | None, Query(max_length=40, description="who was supervised")] = None,
        supervisor: Annotated[str | None, Query(max_length=40)] = None,
        since: Annotated[datetime | None, Query(description="started at or after")] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> SupervisionList:
        if principal.role in LEADS:
            found = await supervision.find(Filters(operator, supervisor, since=since, limit=limit))
        else:
            mine = await supervision.find(Filters(supervisor=principal.name, since=since, limit=limit))
            about = Filters(operator=principal.name, ended_only=True, since=since, limit=limit)
            found = sorted(
                {s.id: s for s in [*mine, *await supervision.find(about)]}.values(),
                key=lambda s: s.started_at,
                reverse=True,
            )[:limit]
        now = supervision.notice(principal.name)
        notice = None if now is None else Notice(mode=now.mode, since=now.answered_at or now.started_at)
        return SupervisionList(sessions=[SessionPublic.of(s) for s in found], notice=notice)

    @api.get(
        "/{session_id}",
        response_model=SessionPublic,
        responses=problems(Forbidden, SessionNotFound),
        summary="One session: who, whom, its modes and times, how it ended",
    )
    async def one(session_id: str, principal: anyone) -> SessionPublic:
        try:
            session = await supervision.get(session_id)
        except SessionNotFound:
            if principal.role not in LEADS:  # others learn nothing of sessions they may not see
                raise Forbidden("you see the sessions you held, and those about you once ended") from None
            raise
        if not _may_see(principal, session):
            raise Forbidden("you see the sessions you held, and those about you once ended")
        return SessionPublic.of(session)

    return api
