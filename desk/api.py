"""The operator's desk over HTTP: ``GET /api/operators/{id}/call``, the call in front of an
operator, for the operator with their own token, seniors, shift leads and admins."""

# No "from __future__ import annotations": FastAPI reads the local Annotated aliases eagerly.

import asyncio
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Depends, Query

from agents.auth import Principal
from agents.directory import Role
from agents.exceptions import Forbidden, UnknownOperator
from core.errors import problems
from core.types import Guard
from desk.context import CallDesk
from desk.schemas import CallContext

SEES_OTHERS = {Role.SENIOR, Role.SHIFT_LEAD, Role.ADMIN}


def desk_router(desk: CallDesk, guard: Guard, lookup: Callable[[str], object]) -> APIRouter:
    """``guard`` admits every role; ``lookup(operator)`` raises UnknownOperator for an unknown
    one (a database read: run off the loop)."""
    api = APIRouter(prefix="/api/operators", tags=["operators"])
    anyone = Annotated[Principal, Depends(guard)]

    @api.get(
        "/{operator_id}/call",
        response_model=CallContext,
        responses=problems(Forbidden, UnknownOperator),
        summary="The call in front of an operator: offered, talking, or ended without a summary yet",
    )
    async def call(
        operator_id: str,
        principal: anyone,
        lang: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}$", description="the page's language")] = None,
    ) -> CallContext:
        if principal.name != operator_id and principal.role not in SEES_OTHERS:
            raise Forbidden("operators see only their own call; seniors, shift leads and admins anyone's")
        await asyncio.to_thread(lookup, operator_id)
        return desk.context(operator_id, lang)

    return api
