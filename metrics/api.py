"""HTTP API of the metrics room: call records."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query

from metrics.schemas import CallRecordPublic
from metrics.store import RecordStore


def calls_router(store: RecordStore) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["calls"])

    @router.get("/calls", response_model=list[CallRecordPublic])
    async def list_calls(
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int, Query(ge=0)] = 0,
        since: datetime | None = None,
    ) -> list[CallRecordPublic]:
        records = await asyncio.to_thread(store.list, limit, offset, since)
        return [CallRecordPublic.of(r) for r in records]

    return router
