"""The HTTP API: the router each room hands the shell, with the guard each route needs.

A new room's routes are one more entry here; what the room needs from the composition root is
passed in, the shell never reaches into a room's internals."""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter

from agents.accounts_api import accounts_router
from agents.api import operators_router
from agents.auth import Authenticator, Guard
from agents.directory import Role
from desk.api import desk_router
from desk.control_api import control_router
from dialplan.apply import ApplyFailed
from hotline.audit import audit_router, client_address, networks
from ivr.api import ivr_router, referrals_router, topics_router
from ivr.editor_api import editor_router
from ivr.switchboard_api import switchboard_router
from ivr.twilio_api import twilio_router
from metrics.records.api import calls_router, summary_router
from metrics.records.export import CallExporter
from metrics.records.summary import SummaryService
from metrics.reports.api import reports_router
from planning.api import planning_router
from planning.schemas import RosterableOut
from supervision.api import supervision_router
from wallboard.api import wallboard_router

if TYPE_CHECKING:
    from hotline.app import Hotline

LEADS = frozenset({Role.SHIFT_LEAD, Role.ADMIN})


def routers(h: Hotline, auth: Authenticator) -> list[APIRouter]:
    """Each room's routes with their guards: the roles a person needs, and the area whose scope
    a machine's token needs (``<area>:read`` for GET, ``<area>:write`` for changes)."""
    settings = h.settings
    everyone = set(Role)

    def anyone(area: str) -> Guard:
        return auth.guard(everyone, area)

    def lead(area: str) -> Guard:
        return auth.guard(LEADS, area)

    def admin(area: str) -> Guard:
        return auth.guard({Role.ADMIN}, area)

    operators = operators_router(
        h.directory,
        h.presence,
        h.operators,
        auth,
        h.softphone,
        h.sync,
        h.guard,
        h.pauses,
        lambda: h.ivr_service.engine().document.escalation_queue,
        h.people.sessions,
    )
    exporter = CallExporter(h.engine, settings.privacy.small_cell_k, settings.metrics.timezone)
    summaries = SummaryService(h.store, h.summaries, h.ivr_service.engine)
    p = h.people
    proxies = networks(settings.http.trusted_proxies)
    return [
        accounts_router(
            auth,
            p.accounts,
            p.sessions,
            p.tokens,
            settings.accounts,
            lambda r: client_address(r.scope, proxies),
        ),
        operators,
        desk_router(h.desk, anyone("desk"), h.directory.get),  # the call in front of one
        control_router(h.control, anyone("desk"), h.directory.get),  # act on it
        supervision_router(h.supervision, anyone("supervision"), h.directory.get),  # listen, whisper, barge
        calls_router(h.store, lead("records"), exporter, h.summaries),
        summary_router(summaries, anyone("records"), h.summary_saved),
        ivr_router(h.ivr_service, h.ivr_store, admin("ivr"), apply_errors=(ApplyFailed,)),
        editor_router(h.ivr_service, h.ivr_store, admin("ivr")),  # the editor page: diff, listen
        referrals_router(h.ivr_service, anyone("ivr")),  # every operator, any role
        topics_router(h.ivr_service, lead("operators")),  # skills are set per topic
        planning_router(
            h.engine,
            lead("planning"),
            timezone=settings.metrics.timezone,
            operators=lambda: [
                RosterableOut(id=o.id, display_name=o.display_name, role=o.role.value)
                for o in h.directory.all(active_only=True)
            ],
        ),
        reports_router(
            h.reports, h.levels, lead("reports"), settings.metrics.timezone, settings.privacy.small_cell_k
        ),
        # Streams end when what admitted them is revoked: at once here, within RECHECK_SECONDS
        # when another process revoked it.
        wallboard_router(
            h.wallboard, lead("wallboard"), auth.still_admits(LEADS, "wallboard"), auth.revocation
        ),
        # Debrief requests; the wallboard's actions.
        *h.lead.routers(anyone("operators"), lead("operators"), lead("wallboard")),
        # A queue's new callers sent elsewhere for a while.
        switchboard_router(h.switchboard, lead("switchboard")),
        audit_router(h.audit.store, admin("audit")),  # who changed what: admins read, export, verify
        # Twilio's voice webhooks: public, each request signed by Twilio (404 without `twilio:`).
        twilio_router(h.twilio),
    ]
