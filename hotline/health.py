"""What /healthz says in full (shift leads and admins; others get the status and versions only,
hotline/http.py): the Asterisk nodes, FastAGI, the live IVR version, records not saved yet and
operators' changes waiting for a node."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from telephony.ami import NodeStatus


def health_body(
    statuses: list[NodeStatus],
    agi_listening: bool,
    ivr_version: int | None,
    records: Mapping[str, Any],
    changes_pending: Mapping[str, int],
) -> tuple[dict[str, Any], bool]:
    ok = bool(statuses) and all(s.logged_in for s in statuses)
    body = {
        "status": "ok" if ok else "degraded",
        "agi": {"listening": agi_listening},
        "ivr": {"version": ivr_version},
        "records": records,  # finished, not in the database yet
        "asterisk": [
            {
                "node": s.node,
                "connected": s.connected,
                "logged_in": s.logged_in,
                "since": s.since.isoformat() if s.since else None,
                "last_error": s.last_error,
                "reconnects": s.reconnects,
                "events_total": s.events_total,
                "operator_changes_pending": changes_pending.get(s.node, 0),
            }
            for s in statuses
        ],
    }
    return body, ok
