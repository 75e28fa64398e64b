"""The shift lead's tools wired to the rest (issue 17, items 3 and 4): debrief requests
(agents/debriefs.py) and the wallboard's actions (wallboard/actions.py), with what they need from
the composition root: the desk and the record store (whose call a debrief names), the live IVR
document (the crisis queues the wallboard ranks first), the burnout guard (a logout ends its
shift). The composition root calls :func:`lead_tools` once and :meth:`LeadTools.start` in run()."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter

from agents.debriefs import Debrief, Debriefs, DebriefStore
from agents.debriefs_api import debriefs_router
from core.types import Guard
from ivr.service import IvrError
from wallboard.actions import ActionLog, WallboardActions
from wallboard.actions_api import actions_router
from wallboard.alerts import TOP_PRIORITY
from wallboard.lead import LeadSources

if TYPE_CHECKING:
    from hotline.app import Hotline


@dataclass
class LeadTools:
    debriefs: Debriefs
    actions: WallboardActions

    async def start(self) -> None:
        await self.debriefs.load()

    def routers(self, anyone: Guard, lead: Guard, board: Guard) -> list[APIRouter]:
        """Debriefs under the operators' guards; the wallboard's actions under ``board``."""
        return [
            debriefs_router(self.debriefs, anyone, lead, self.actions.record),
            actions_router(self.actions, board),
        ]


def _public(d: Debrief) -> dict[str, Any]:
    return {
        "id": d.id,
        "operator": d.operator,
        "state": d.state,
        "record_id": d.record_id,
        "note": d.note,
        "suggested": d.suggested,
        "requested_at": d.requested_at.isoformat(),
        "started_at": d.started_at.isoformat() if d.started_at else None,
        "started_by": d.started_by,
        "paused": d.paused,
    }


def lead_tools(h: Hotline) -> LeadTools:
    async def call_owner(record_id: str, operator: str) -> str | None:
        on_desk = h.desk.context(operator).call  # the call just had: maybe not saved yet
        if on_desk is not None and on_desk.record_id == record_id:
            return operator
        record = await asyncio.to_thread(h.store.get, record_id)
        return None if record is None else record.operator or ""

    def paused_reason(operator: str) -> str:
        return h.operators.state(operator).paused_reason

    def crisis_queues() -> set[str]:
        try:
            document = h.ivr_service.engine().document
        except IvrError:  # no live IVR yet (the first seconds of a fresh install)
            return set()
        return {t.queue for t in document.topics if t.priority >= TOP_PRIORITY}

    debriefs = Debriefs(
        DebriefStore(h.engine),
        h.presence,
        h.directory.get,
        call_owner,
        h.operators.logged_in,
        paused_reason,
    )
    debriefs.listeners.append(h.wallboard.changed)
    actions = WallboardActions(h.presence, h.operators, h.wallboard, ActionLog(h.engine), h.guard.forget)
    h.wallboard.lead = LeadSources(
        crisis_queues=crisis_queues,
        debriefs=lambda: [_public(d) for d in debriefs.open_now()],
        moves=h.presence.moves,
    )
    return LeadTools(debriefs, actions)
