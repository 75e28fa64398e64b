"""One record per call with two service instances (issue 22): what each instance knows of a
call, and how two versions of one call's record become one.

Both instances follow every node's AMI and assemble every call that reaches a queue; only the
instance whose FastAGI server walked the caller through the IVR hears the IVR's reports. So:

- The IVR's route also travels on the caller's channel (telephony/route_facts.py): the queue
  join carries it, and :func:`apply_route` gives a record that has no IVR report the IVR's
  facts (topic, path, priority, its start), as if this instance had walked it. The record is
  then the same on both instances, and still complete when the walking instance dies.
- A record's id is derived from its call (:func:`record_id`), so both instances name a call's
  record alike (the desk, debriefs and summaries point at it by id).
- Both save their version; the store keeps one row per (node, call_id) and folds the versions
  together with :func:`merge`: nothing one instance alone saw (a survey score, a desk action,
  the IVR's facts) is lost, whichever saves last.
"""

from __future__ import annotations

import dataclasses
import uuid
from typing import Final

from core.types import CallRef
from metrics.records.record import CallRecord
from telephony.route_facts import RouteFacts

_NAMESPACE: Final = uuid.UUID("5b0c8a52-7f7e-4d55-9d0b-6c1f3f6e2a91")
# Fields one version may know and the other not (None, "", False): the known value stays.
_KNOWN_BY_ONE: Final = (
    "ivr_ended_at",
    "queue_entered_at",
    "answered_at",
    "ended_at",
    "language",
    "menu_version",
    "path",
    "topic",
    "queue",
    "route_reason",
    "wait_seconds",
    "talk_seconds",
    "operator",
    "referral",
    "survey_score",
    "wrapup_seconds",
    "repeat_count",
    "transferred",
    "switchboarded_from",
)
_EITHER: Final = ("after_hours", "overflowed", "escalated", "conferenced", "emergency")
_IVR: Final = ("priority", "fallback")  # as the version that heard the IVR says


def record_id(call: CallRef) -> str:
    """The same id for a call's record on every instance (32 hex digits, as before)."""
    return uuid.uuid5(_NAMESPACE, f"{call.node}\x00{call.call_id}").hex


def has_route(record: CallRecord) -> bool:
    """The record knows the IVR's route (from its report or from the channel)."""
    return record.ivr_ended_at is not None or bool(record.menu_version)


def apply_route(record: CallRecord, facts: RouteFacts | None) -> None:
    """Give a record without an IVR report the route the IVR set on the channel (if any)."""
    if facts is None or has_route(record):
        return
    record.started_at = min(record.started_at, facts.started_at)
    record.ivr_ended_at = facts.routed_at
    record.menu_version = facts.menu_version or None
    record.language = facts.language or None
    record.path, record.topic = facts.path, facts.topic or None
    record.route_reason = facts.reason or None
    record.priority, record.after_hours = facts.priority, facts.after_hours
    record.referral = facts.referral or None
    record.switchboarded_from = facts.switchboarded_from or None
    if record.repeat_count is None:
        record.repeat_count = facts.repeat_count


def merge(stored: CallRecord, incoming: CallRecord) -> CallRecord:
    """One record of a call from two versions (the stored one, one saved now).

    The base is the incoming version, unless only the stored one is complete (an instance saw
    the caller hang up; the other swept the call as incomplete): the base says how the call
    ended. What the base does not know, the other version fills in; the IVR's priority and
    fallback come from the version that knows the route; the earlier start stays."""
    base, other = (stored, incoming) if stored.complete and not incoming.complete else (incoming, stored)
    merged = dataclasses.replace(base, id=stored.id, started_at=min(stored.started_at, incoming.started_at))
    for name in _KNOWN_BY_ONE:
        if getattr(merged, name) in (None, ""):
            setattr(merged, name, getattr(other, name))
    for name in _EITHER:
        setattr(merged, name, getattr(base, name) or getattr(other, name))
    if not has_route(base) and has_route(other):
        for name in _IVR:
            setattr(merged, name, getattr(other, name))
    return merged
