"""Call control from the operator's desk (issue 16, items 5 and 6): transfer the caller (blind or
warm, to a queue or a partner line), bring a partner line or interpreter into the call, bring in
the document's emergency line, leave.

Every action starts from the operator's own channel; the caller's channel (whose name may hold
their number) is never named, read or logged here:

- blind: AMI ``BlindTransfer`` of the operator's channel; the caller goes to
  ``hotline-desk-queue`` (a queue) or ``hotline-desk-referral`` (the partner line, dialled by
  the caller's own channel as a referral from the menu is: anonymous, a human here if nobody
  answers). The operator's leg ends.
- warm: AMI ``Atxfer`` on the operator's channel (the consultation target in an inheritable
  channel variable first): the caller hears music on hold while the operator talks to the
  partner (``hotline-desk-consult`` dials it as "anonymous"); when the operator hangs up (or
  :meth:`CallControl.leave`) Asterisk joins the caller and the partner.
- conference and emergency: AMI ``Originate`` of the partner's line as "anonymous", answered
  into ``BridgeAdd(<the operator's channel>)``: the call's own bridge takes a third party (the
  bridge mixes them) and, in Asterisk, the newcomer takes the call's linkedid. The operator
  may then leave; the caller and the partner stay.

Legs dialled from the call (blind, warm) keep the caller's linkedid: the record stays one call.
Who did what and when goes to ``record`` (a database write, run off the loop) and to the
on-loop listeners (the call's record, the wallboard's alert).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

from agents.exceptions import NotInCall
from core.types import CallRef
from desk.exceptions import CallControlFailed, NoEmergencyLine, UnknownQueue, UnknownReferral
from ivr.document import IvrDocument
from telephony import variables as v
from telephony.ami import AmiUnavailable
from telephony.events import AgentComplete, AgentConnect, AmiEvent

log = logging.getLogger("hotline.desk")

REFERRAL_ENDPOINT = "hotline-referral"  # pjsip.conf: partner lines are dialled through it
RING_MS = 60_000  # how long a partner line may ring before an originate gives up


class Mode(StrEnum):
    WARM = "warm"
    BLIND = "blind"


class Action(StrEnum):
    TRANSFER_WARM = "transfer_warm"
    TRANSFER_BLIND = "transfer_blind"
    CONFERENCE = "conference"
    EMERGENCY = "emergency"
    LEAVE = "leave"


TargetKind = Literal["queue", "referral", "emergency"]


@dataclass(frozen=True)
class Target:
    """Where a call goes: a queue by name, or a line by its number (an organisation's)."""

    kind: TargetKind
    id: str  # the queue's name, the referral's id, "emergency"
    dial: str  # what Asterisk dials: the queue's name or the line's number


@dataclass(frozen=True)
class Seat:
    """An operator in a call: the node, the operator's own channel, the call, its queue."""

    node: str
    channel: str
    call: CallRef
    queue: str


@dataclass(frozen=True)
class DeskAction:
    """One use of call control: who asked, for which operator's call, when, and where to."""

    action: Action
    operator: str
    by: str
    at: datetime
    call: CallRef
    queue: str
    topic: str | None
    target: Target | None


class AmiSender(Protocol):
    """What call control needs of an AMI node (telephony.ami.AmiNode)."""

    @property
    def name(self) -> str: ...

    async def send(self, action: Mapping[str, str], *, first_reply: bool = False) -> Any: ...


# -- the AMI actions (pure) ---------------------------------------------------------------------
def blind_transfer(channel: str, target: Target) -> dict[str, str]:
    context = v.CONTEXT_DESK_QUEUE if target.kind == "queue" else v.CONTEXT_DESK_REFERRAL
    return {"Action": "BlindTransfer", "Channel": channel, "Context": context, "Exten": target.dial}


def consultation(channel: str, target: Target) -> list[dict[str, str]]:
    """A warm transfer: the target where the consultation leg finds it (inherited by the legs
    the transfer dials), then the attended transfer itself."""
    exten = v.CONSULT_QUEUE if target.kind == "queue" else v.CONSULT_REFERRAL
    return [
        {"Action": "Setvar", "Channel": channel, "Variable": f"_{v.DESK_DIAL}", "Value": target.dial},
        {"Action": "Atxfer", "Channel": channel, "Exten": exten, "Context": v.CONTEXT_DESK_CONSULT},
    ]


def bring_in(channel: str, target: Target) -> dict[str, str]:
    """The partner's line, as "anonymous", into the bridge the operator's channel is in."""
    return {
        "Action": "Originate",
        "Channel": f"PJSIP/{target.dial}@{REFERRAL_ENDPOINT}",
        "Application": "BridgeAdd",
        "Data": channel,
        "CallerID": v.ANONYMOUS,
        "Timeout": str(RING_MS),
        "Async": "true",  # a sync Originate breaks panoramisk's connection
    }


def hang_up(channel: str) -> dict[str, str]:
    return {"Action": "Hangup", "Channel": channel, "Cause": "16"}


# -- the service ----------------------------------------------------------------------------------
def _now() -> datetime:
    return datetime.now(UTC)


class CallControl:
    """``record(action)``: keeps every use (a database write: run in a worker thread);
    ``listeners``: told on the loop (the call's record, the wallboard)."""

    def __init__(
        self,
        nodes: Sequence[AmiSender],
        document: Callable[[], IvrDocument],
        topic_of: Callable[[CallRef], str | None] = lambda _call: None,
        record: Callable[[DeskAction], None] = lambda _action: None,
        listeners: Sequence[Callable[[DeskAction], None]] = (),
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._nodes = {n.name: n for n in nodes}
        self._document = document
        self._topic_of = topic_of
        self._record = record
        self._listeners = listeners
        self._clock = clock
        self._seats: dict[str, Seat] = {}  # operator -> the call they talk in

    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, AgentConnect) and event.member_channel:
            call = CallRef(event.node, event.call_id)
            self._seats[event.member] = Seat(event.node, event.member_channel, call, event.queue)
        elif isinstance(event, AgentComplete):
            seat = self._seats.get(event.member)
            if seat is not None and seat.call == CallRef(event.node, event.call_id):
                del self._seats[event.member]

    def seat(self, operator: str) -> Seat | None:
        return self._seats.get(operator)

    async def transfer(
        self, operator: str, by: str, mode: Mode, queue: str | None, referral: str | None
    ) -> DeskAction:
        target = self._queue(queue) if queue is not None else self._referral(referral or "")
        seat = self._in_call(operator)
        if mode is Mode.BLIND:
            await self._send(seat, [blind_transfer(seat.channel, target)])
            return await self._done(Action.TRANSFER_BLIND, operator, by, seat, target)
        await self._send(seat, consultation(seat.channel, target))
        return await self._done(Action.TRANSFER_WARM, operator, by, seat, target)

    async def conference(self, operator: str, by: str, referral: str) -> DeskAction:
        target = self._referral(referral)
        seat = self._in_call(operator)
        await self._send(seat, [bring_in(seat.channel, target)])
        return await self._done(Action.CONFERENCE, operator, by, seat, target)

    async def emergency(self, operator: str, by: str) -> DeskAction:
        line = self._document().emergency
        if line is None:
            raise NoEmergencyLine("the live IVR document has no emergency line; an admin can add one")
        target = Target("emergency", "emergency", line.number)
        seat = self._in_call(operator)
        await self._send(seat, [bring_in(seat.channel, target)])
        return await self._done(Action.EMERGENCY, operator, by, seat, target)

    async def leave(self, operator: str, by: str) -> DeskAction:
        """The operator's leg ends: completes a warm transfer, leaves a conference."""
        seat = self._in_call(operator)
        await self._send(seat, [hang_up(seat.channel)])
        return await self._done(Action.LEAVE, operator, by, seat, None)

    # -- internals --------------------------------------------------------------------------------
    def _queue(self, name: str) -> Target:
        if self._document().queue(name) is None:
            raise UnknownQueue(f"queue '{name}' is not in the live IVR document")
        return Target("queue", name, name)

    def _referral(self, referral_id: str) -> Target:
        referral = self._document().referral(referral_id)
        if referral is None:
            raise UnknownReferral(f"referral '{referral_id}' is not in the live IVR document")
        return Target("referral", referral.id, referral.number)

    def _in_call(self, operator: str) -> Seat:
        seat = self._seats.get(operator)
        if seat is None:
            raise NotInCall(f"operator '{operator}' is not in a call")
        return seat

    async def _send(self, seat: Seat, actions: list[dict[str, str]]) -> None:
        node = self._nodes.get(seat.node)
        if node is None:
            raise CallControlFailed(seat.node, f"node '{seat.node}' of the call is not configured")
        for action in actions:
            what = f"{action['Action']} on node '{node.name}'"
            try:
                # An async Originate's outcome comes later as an event: its acceptance is the reply.
                reply = await asyncio.wait_for(node.send(action, first_reply=True), timeout=10)
            except (AmiUnavailable, TimeoutError) as exc:
                reason = exc.reason if isinstance(exc, AmiUnavailable) else "no answer in 10 s"
                raise CallControlFailed(node.name, f"{what} failed: {reason}") from exc
            if str(_first(reply).get("Response", "")).lower() != "success":
                message = str(_first(reply).get("Message", "")) or "refused"
                raise CallControlFailed(node.name, f"{what} refused: {message}")

    async def _done(
        self, action: Action, operator: str, by: str, seat: Seat, target: Target | None
    ) -> DeskAction:
        done = DeskAction(
            action, operator, by, self._clock(), seat.call, seat.queue, self._topic_of(seat.call), target
        )
        for listener in self._listeners:
            listener(done)
        try:
            await asyncio.to_thread(self._record, done)
        except Exception as exc:  # done in Asterisk and on the record: the answer says so still
            log.warning(
                "operator %s: %s not kept in the desk log (%s)", operator, action.value, type(exc).__name__
            )
        where = f" to {target.kind} '{target.id}'" if target else ""
        log.info("operator %s: %s%s (asked by %s)", operator, action.value, where, by)
        return done


def _first(reply: Any) -> Mapping[str, Any]:
    """An action's reply, or the first message of a multi-part one."""
    if isinstance(reply, list):
        return reply[0] if reply else {}
    return reply if reply is not None else {}
