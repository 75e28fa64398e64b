"""Typed app_queue events: frozen dataclasses holding only non-personal fields.

telephony/scrub.py makes them from raw AMI messages; nothing else does, and nothing downstream
ever sees a raw message.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final, TypeAlias

from telephony.route_facts import RouteFacts

QUEUE_CALLER_JOIN: Final = "QueueCallerJoin"
QUEUE_CALLER_LEAVE: Final = "QueueCallerLeave"
QUEUE_CALLER_ABANDON: Final = "QueueCallerAbandon"
AGENT_CALLED: Final = "AgentCalled"
AGENT_RING_NO_ANSWER: Final = "AgentRingNoAnswer"
AGENT_CONNECT: Final = "AgentConnect"
AGENT_COMPLETE: Final = "AgentComplete"
QUEUE_MEMBER_STATUS: Final = "QueueMemberStatus"
QUEUE_MEMBER_ADDED: Final = "QueueMemberAdded"
QUEUE_MEMBER_REMOVED: Final = "QueueMemberRemoved"
QUEUE_MEMBER_PAUSE: Final = "QueueMemberPause"
QUEUE_PARAMS: Final = "QueueParams"
QUEUE_MEMBER: Final = "QueueMember"
QUEUE_ENTRY: Final = "QueueEntry"
QUEUE_STATUS_COMPLETE: Final = "QueueStatusComplete"
CORE_SHOW_CHANNEL: Final = "CoreShowChannel"
FULLY_BOOTED: Final = "FullyBooted"
HANGUP: Final = "Hangup"
USER_EVENT: Final = "UserEvent"  # the dialplan's own events: only HANDOVER is read
HANDOVER: Final = "HotlineHandover"


@dataclass(frozen=True, slots=True)
class BaseEvent:
    """Fields every event carries; ``call_id`` is the Linkedid (one id per call, all legs)."""

    node: str
    at: datetime
    call_id: str
    uniqueid: str


@dataclass(frozen=True, slots=True)
class QueueCallerJoin(BaseEvent):
    queue: str
    position: int
    count: int
    route: RouteFacts | None = None  # the IVR's route, from the channel (telephony/route_facts.py)


@dataclass(frozen=True, slots=True)
class QueueCallerLeave(BaseEvent):
    queue: str
    position: int
    count: int


@dataclass(frozen=True, slots=True)
class QueueCallerAbandon(BaseEvent):
    queue: str
    position: int
    original_position: int
    hold_seconds: int


@dataclass(frozen=True, slots=True)
class AgentCalled(BaseEvent):
    queue: str
    member: str


@dataclass(frozen=True, slots=True)
class AgentRingNoAnswer(BaseEvent):
    queue: str
    member: str
    ring_ms: int


@dataclass(frozen=True, slots=True)
class AgentConnect(BaseEvent):
    queue: str
    member: str
    hold_seconds: int
    ring_seconds: int
    # The operator's channel (PJSIP/<pseudonym>-<n>), for a blind transfer to a senior. Never
    # the caller's channel: its name may hold their number (an endpoint named after it).
    member_channel: str = ""


@dataclass(frozen=True, slots=True)
class AgentComplete(BaseEvent):
    queue: str
    member: str
    hold_seconds: int
    talk_seconds: int
    reason: str


@dataclass(frozen=True, slots=True)
class MemberState(BaseEvent):
    """Shared fields of the member events. Added/Removed/Pause have their own classes (not
    a ``kind`` field) so a ``match`` on the class tells them apart; match those, not this.
    ``interface`` is kept verbatim: members must be pseudonymous (PJSIP/op-1001), never a
    ``Local/<phone number>``. QueueStatus sends ``Name``/``Location`` for these two."""

    queue: str
    member: str
    interface: str
    status: int
    paused: bool
    paused_reason: str
    in_call: bool
    calls_taken: int
    last_call: int = 0  # epoch seconds the member's last call ended (0: none yet)


@dataclass(frozen=True, slots=True)
class QueueMemberStatus(MemberState):
    """The member's device state or counters changed."""


@dataclass(frozen=True, slots=True)
class QueueMemberAdded(MemberState):
    """The member joined the queue (state as of joining)."""


@dataclass(frozen=True, slots=True)
class QueueMemberRemoved(MemberState):
    """The member left the queue (state as of leaving)."""


@dataclass(frozen=True, slots=True)
class QueueMemberPause(MemberState):
    """The member was paused or unpaused: read ``paused`` and ``paused_reason``."""


@dataclass(frozen=True, slots=True)
class QueueParams(BaseEvent):
    queue: str
    max: int
    strategy: str
    calls: int
    hold_seconds: int
    talk_seconds: int
    completed: int
    abandoned: int
    service_level_seconds: int
    service_level_perf: float


@dataclass(frozen=True, slots=True)
class QueueMember(MemberState):
    """A member as listed by a QueueStatus resync (not a change)."""


@dataclass(frozen=True, slots=True)
class QueueEntry(BaseEvent):
    """A waiting caller as listed by QueueStatus; ``call_id`` falls back to the Uniqueid."""

    queue: str
    position: int
    wait_seconds: int


@dataclass(frozen=True, slots=True)
class FullyBooted(BaseEvent):
    pass


@dataclass(frozen=True, slots=True)
class Hangup(BaseEvent):
    cause: int


@dataclass(frozen=True, slots=True)
class Handover(BaseEvent):
    """A call came from another node of the line (overflow between regions): on this node it is
    ``call_id``, where it began it is ``from_call`` on ``from_node``; one call, one record."""

    from_node: str
    from_call: str


@dataclass(frozen=True, slots=True)
class QueueSnapshot:
    """Everything one QueueStatus resync returned; replaces, not updates, a node's state."""

    node: str
    at: datetime
    params: tuple[QueueParams, ...]
    members: tuple[QueueMember, ...]
    entries: tuple[QueueEntry, ...]


@dataclass(frozen=True, slots=True)
class LiveCalls:
    """The calls a node has channels for right now (a CoreShowChannels census): their ids only.

    Taken after every login, so calls that ended while nobody listened can be settled;
    ``answered``: the calls an operator answered since the last census (AstDB, noted by the
    dialplan as each call is answered), so one answered while nobody listened is not taken for
    an abandoned one."""

    node: str
    at: datetime  # when the census was asked for: a call seen after it is not judged by it
    call_ids: frozenset[str]
    answered: frozenset[str] = frozenset()


AmiEvent: TypeAlias = (
    QueueCallerJoin
    | QueueCallerLeave
    | QueueCallerAbandon
    | AgentCalled
    | AgentRingNoAnswer
    | AgentConnect
    | AgentComplete
    | QueueMemberStatus
    | QueueMemberAdded
    | QueueMemberRemoved
    | QueueMemberPause
    | QueueParams
    | QueueMember
    | QueueEntry
    | FullyBooted
    | Hangup
    | Handover
    | QueueSnapshot
    | LiveCalls
)
