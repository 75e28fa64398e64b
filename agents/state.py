"""Live state of every queue member, from AMI events; a QueueStatus snapshot after each
(re)connect replaces a node's view, so the board always converges to what Asterisk reports."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from telephony.events import (
    AgentComplete,
    AgentConnect,
    AmiEvent,
    MemberState,
    QueueMemberRemoved,
    QueueSnapshot,
)

# Asterisk device states in QueueMember* events.
_RINGING = {6, 7}
_ON_CALL = {2, 3, 8}
_UNREACHABLE = {4, 5}


class OperatorStatus(StrEnum):
    LOGGED_OUT = "logged_out"
    AVAILABLE = "available"
    RINGING = "ringing"
    ON_CALL = "on_call"
    WRAP_UP = "wrap_up"  # after a call, before the next one is offered
    PAUSED = "paused"
    UNREACHABLE = "unreachable"  # logged in, but the softphone is not registered


@dataclass(frozen=True)
class Membership:
    queue: str
    paused: bool
    paused_reason: str
    device: int
    in_call: bool
    calls_taken: int
    last_call: int = 0


@dataclass(frozen=True)
class OperatorState:
    operator: str
    status: OperatorStatus
    paused_reason: str
    queues: tuple[str, ...]
    calls_taken: int
    since: datetime | None = None  # when the operator entered this status (as seen here)
    wrapup_until: datetime | None = None


@dataclass(frozen=True)
class _LastCall:
    ended: datetime
    queue: str


def _now() -> datetime:
    return datetime.now(UTC)


class OperatorBoard:
    """``wrapup_for(queue)`` gives a queue's wrap-up seconds (the live IVR document's)."""

    def __init__(
        self,
        wrapup_for: Callable[[str], float | None] = lambda _queue: None,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        # node -> member name -> queue -> membership
        self._nodes: dict[str, dict[str, dict[str, Membership]]] = defaultdict(dict)
        self._wrapup_for = wrapup_for
        self._clock = clock
        self._last_call: dict[str, _LastCall] = {}
        self._channels: dict[str, tuple[str, str]] = {}  # member -> (node, its channel in a call)
        self._since: dict[str, tuple[OperatorStatus, datetime]] = {}

    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, AgentConnect):
            if event.member_channel:
                self._channels[event.member] = (event.node, event.member_channel)
        elif isinstance(event, AgentComplete):
            self._channels.pop(event.member, None)
            self._last_call[event.member] = _LastCall(event.at, event.queue)
        elif isinstance(event, QueueSnapshot):
            view: dict[str, dict[str, Membership]] = defaultdict(dict)
            for m in event.members:
                view[m.member][m.queue] = _membership(m)
            self._nodes[event.node] = dict(view)
        elif isinstance(event, QueueMemberRemoved):
            self._nodes[event.node].get(event.member, {}).pop(event.queue, None)
        elif isinstance(event, MemberState):
            self._nodes[event.node].setdefault(event.member, {})[event.queue] = _membership(event)

    def memberships(self, operator: str) -> list[Membership]:
        return [m for node in self._nodes.values() for m in node.get(operator, {}).values()]

    def logged_in(self, operator: str) -> bool:
        return bool(self.memberships(operator))

    def call_channel(self, operator: str) -> tuple[str, str] | None:
        """(node, the operator's channel) while the operator is in a call."""
        return self._channels.get(operator)

    def state(self, operator: str) -> OperatorState:
        members = self.memberships(operator)
        queues = tuple(sorted({m.queue for m in members}))
        taken = max((m.calls_taken for m in members), default=0)
        reason = next((m.paused_reason for m in members if m.paused), "")
        now = self._clock()
        until = self._wrapup_until(operator, members)
        status = _status(members, until is not None and now < until)
        return OperatorState(
            operator, status, reason, queues, taken, self._entered(operator, status, now), until
        )

    def _wrapup_until(self, operator: str, members: list[Membership]) -> datetime | None:
        last = self._last_call.get(operator)
        asterisk_last = max((m.last_call for m in members), default=0)
        if asterisk_last and (last is None or asterisk_last > last.ended.timestamp() + 1):
            ended = datetime.fromtimestamp(asterisk_last, UTC)  # learnt from a resync
            wrapup = max((self._wrapup_for(m.queue) or 0.0 for m in members), default=0.0)
        elif last is not None:
            ended, wrapup = last.ended, self._wrapup_for(last.queue) or 0.0
        else:
            return None
        return ended + timedelta(seconds=wrapup) if wrapup else None

    def _entered(self, operator: str, status: OperatorStatus, now: datetime) -> datetime:
        seen = self._since.get(operator)
        if seen is None or seen[0] is not status:
            self._since[operator] = seen = (status, now)
        return seen[1]

    def operators(self) -> list[str]:
        return sorted({name for node in self._nodes.values() for name, queues in node.items() if queues})


def _membership(m: MemberState) -> Membership:
    return Membership(m.queue, m.paused, m.paused_reason, m.status, m.in_call, m.calls_taken, m.last_call)


def _status(members: list[Membership], wrapping_up: bool = False) -> OperatorStatus:
    if not members:
        return OperatorStatus.LOGGED_OUT
    devices = {m.device for m in members}
    if devices & _ON_CALL or any(m.in_call for m in members):
        return OperatorStatus.ON_CALL
    if devices & _RINGING:
        return OperatorStatus.RINGING
    if all(m.paused for m in members):
        return OperatorStatus.PAUSED
    if wrapping_up:
        return OperatorStatus.WRAP_UP
    if devices <= _UNREACHABLE:
        return OperatorStatus.UNREACHABLE
    return OperatorStatus.AVAILABLE
