"""Live state of every queue member, from AMI events; a QueueStatus snapshot after each
(re)connect replaces a node's view, so the board always converges to what Asterisk reports."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from telephony.events import (
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


@dataclass(frozen=True)
class OperatorState:
    operator: str
    status: OperatorStatus
    paused_reason: str
    queues: tuple[str, ...]
    calls_taken: int


class OperatorBoard:
    def __init__(self) -> None:
        # node -> member name -> queue -> membership
        self._nodes: dict[str, dict[str, dict[str, Membership]]] = defaultdict(dict)

    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, QueueSnapshot):
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

    def state(self, operator: str) -> OperatorState:
        members = self.memberships(operator)
        queues = tuple(sorted({m.queue for m in members}))
        taken = max((m.calls_taken for m in members), default=0)
        reason = next((m.paused_reason for m in members if m.paused), "")
        return OperatorState(operator, _status(members), reason, queues, taken)

    def operators(self) -> list[str]:
        return sorted({name for node in self._nodes.values() for name, queues in node.items() if queues})


def _membership(m: MemberState) -> Membership:
    return Membership(m.queue, m.paused, m.paused_reason, m.status, m.in_call, m.calls_taken)


def _status(members: list[Membership]) -> OperatorStatus:
    if not members:
        return OperatorStatus.LOGGED_OUT
    devices = {m.device for m in members}
    if devices & _ON_CALL or any(m.in_call for m in members):
        return OperatorStatus.ON_CALL
    if devices & _RINGING:
        return OperatorStatus.RINGING
    if all(m.paused for m in members):
        return OperatorStatus.PAUSED
    if devices <= _UNREACHABLE:
        return OperatorStatus.UNREACHABLE
    return OperatorStatus.AVAILABLE
