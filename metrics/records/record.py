"""The call record: what the line keeps of one call (never a caller number), and how it ended."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class Outcome(StrEnum):
    IN_PROGRESS = "in_progress"
    ANSWERED = "answered"
    ABANDONED_IN_IVR = "abandoned_in_ivr"
    ABANDONED_IN_QUEUE = "abandoned_in_queue"
    REFERRED = "referred"
    FAILED = "failed"


@dataclass(slots=True)
class CallRecord:
    """Changed only by the assembler while the call is open; read-only once handed out."""

    id: str
    node: str
    call_id: str
    started_at: datetime
    ivr_ended_at: datetime | None = None
    queue_entered_at: datetime | None = None
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    language: str | None = None
    menu_version: str | None = None
    path: str = ""
    topic: str | None = None
    queue: str | None = None
    route_reason: str | None = None
    fallback: bool = False
    outcome: Outcome = Outcome.IN_PROGRESS
    wait_seconds: float | None = None
    talk_seconds: float | None = None
    operator: str | None = None
    complete: bool = True
    priority: int = 0
    after_hours: bool = False
    referral: str | None = None
    overflowed: bool = False
    escalated: bool = False  # an operator handed the caller to the senior queue
    survey_score: int | None = None  # 1-5, pressed by the caller after the call
    wrapup_seconds: float | None = None  # the operator's after-call work
    repeat_count: int | None = None  # calls from the same number within the window, this one included
    # The operator's desk (desk/control.py): "warm" or "blind" when an operator transferred the
    # caller; a partner line or interpreter brought into the call; the emergency line brought in.
    transferred: str | None = None
    conferenced: bool = False
    emergency: bool = False
    # A shift lead's redirect (ivr/switchboard.py) sent the caller elsewhere: the queue the IVR
    # had chosen; ``queue`` (or ``referral``) says where the caller went instead.
    switchboarded_from: str | None = None


def is_offered(record: CallRecord) -> bool:
    """The same rule as the SQL: reached a queue, or recorded as answered or abandoned there."""
    return record.queue_entered_at is not None or record.outcome in (
        Outcome.ANSWERED,
        Outcome.ABANDONED_IN_QUEUE,
    )
