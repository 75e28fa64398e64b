"""The wallboard's alerts: found per queue, ranked, and acknowledged by shift leads.

Rank (1 first), then within a rank the longest wait or the lowest service level first:

1. ``wait`` on a crisis queue: a crisis caller has waited over the queue's threshold. A queue is
   a crisis queue when a topic of the live IVR document with the highest priority (10, "acute
   risk is answered first") routes to it (``crisis_queues``);
2. ``unstaffed`` with callers waiting: nobody logged in where someone waits;
3. service: ``wait`` on another queue over its threshold, ``service_level`` over 24 h below target;
4. ``emergency``: an operator brought the emergency line into a call (an hour);
5. ``records``: finished call records waiting for the database;
6. ``unstaffed`` with nobody waiting.

Every alert has an ``id`` (its kind and queue; an emergency's also its operator and time), so a
lead can acknowledge it: who and when are shown on the alert while it lasts, and the lead's
action is recorded (wallboard/actions.py). An alert that ends takes its acknowledgement with it;
if it comes back it is a new alert.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from core.errors import DomainError

TOP_PRIORITY = 10  # ivr/document.py Topic.priority's highest: acute risk


class AlertNotFound(DomainError):
    error_id = "alert_not_found"
    status = 404


class AlertAcknowledged(DomainError):
    """Acknowledged already (``details``: who and when)."""

    error_id = "alert_acknowledged"
    status = 409


def queue_alerts(q: dict[str, Any], crisis: bool) -> list[dict[str, Any]]:
    """The alerts of one queue's figures (as the snapshot shows them)."""
    out = []
    level = q["service_level_24h"]
    if level is not None and level < q["target"]:
        message = f"service level {level:.0%} over 24 h is below the target {q['target']:.0%}"
        out.append({"queue": q["queue"], "kind": "service_level", "message": message, "rank": 3})
    if q["waiting"] and q["longest_wait_seconds"] > q["threshold_seconds"]:
        who = "a crisis caller" if crisis else "a caller"
        message = (
            f"{who} has waited {q['longest_wait_seconds']:.0f} s (threshold {q['threshold_seconds']:g} s)"
        )
        out.append({"queue": q["queue"], "kind": "wait", "message": message, "rank": 1 if crisis else 3})
    if q["logged_in"] == 0:
        waiting = q["waiting"]
        message = f"nobody is logged in, {waiting} waiting" if waiting else "nobody is logged in"
        out.append(
            {"queue": q["queue"], "kind": "unstaffed", "message": message, "rank": 2 if waiting else 6}
        )
    for alert in out:  # what orders alerts of one rank: a wait now, else the level over 24 h
        alert.update(crisis=crisis, _wait=q["longest_wait_seconds"] if q["waiting"] else 0.0)
        if alert["kind"] == "service_level":
            alert.update(_wait=0.0, _level=level)
    return out


def alert_id(alert: dict[str, Any]) -> str:
    if alert["kind"] == "emergency":
        return f"emergency:{alert['operator']}:{alert['at']}"
    return f"{alert['kind']}:{alert['queue'] or '-'}"


def _order(alert: dict[str, Any]) -> tuple[int, float, float]:
    level = alert.get("_level")
    return (alert["rank"], -float(alert.get("_wait") or 0.0), 1.0 if level is None else float(level))


@dataclass(frozen=True)
class Acknowledgement:
    by: str
    at: datetime


class Alerts:
    """Ranks the alerts a snapshot found and keeps the leads' acknowledgements of them."""

    def __init__(self) -> None:
        self._acks: dict[str, Acknowledgement] = {}
        self._current: set[str] = set()

    def ranked(self, found: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for alert in sorted(found, key=_order):  # stable: equal ones keep their order
            public = {k: v for k, v in alert.items() if not k.startswith("_")}
            public["id"] = alert_id(alert)
            public.setdefault("crisis", False)
            ack = self._acks.get(public["id"])
            public["acknowledged"] = None if ack is None else {"by": ack.by, "at": ack.at.isoformat()}
            out.append(public)
        self._current = {a["id"] for a in out}
        self._acks = {k: v for k, v in self._acks.items() if k in self._current}  # ended: forgotten
        return out

    def acknowledge(self, alert: str, by: str, at: datetime) -> Acknowledgement:
        """``alert`` must be one of the latest snapshot's, not acknowledged yet."""
        if alert not in self._current:
            raise AlertNotFound(f"no alert '{alert}' on the wallboard now")
        if (ack := self._acks.get(alert)) is not None:
            details = {"by": ack.by, "at": ack.at.isoformat()}
            raise AlertAcknowledged(f"alert '{alert}' was acknowledged by {ack.by}", details)
        self._acks[alert] = made = Acknowledgement(by, at)
        return made
