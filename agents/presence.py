"""Operators logging in and out and pausing, carried out through AMI on every node: QueueAdd to
each queue the operator's skills cover, QueueRemove, QueuePause with a reason."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from agents.directory import Operator, OperatorDirectory, memberships
from agents.exceptions import (
    AgentsError,
    AlreadyInQueue,
    NotInQueue,
    NotLoggedIn,
    ReservedPauseReason,
    UnknownQueue,
)
from agents.pauses import PauseWriter
from core.errors import where
from ivr.document import IvrDocument
from telephony.ami import AmiNode, AmiUnavailable

log = logging.getLogger("hotline.agents")


class PauseReason(StrEnum):
    BREAK = "break"
    SUPERVISION = "supervision"
    TRAINING = "training"
    DEBRIEF = "debrief"
    AFTER_CALL_WORK = "after_call_work"
    RECOVERY = "recovery"  # the burnout guard's own pause


# *43N on a softphone: N picks the reason.
FEATURE_REASONS: Mapping[str, PauseReason] = {
    "1": PauseReason.BREAK,
    "2": PauseReason.SUPERVISION,
    "3": PauseReason.TRAINING,
    "4": PauseReason.DEBRIEF,
    "5": PauseReason.AFTER_CALL_WORK,
}


class PauseSource(StrEnum):
    OPERATOR = "operator"
    SHIFT_LEAD = "shift_lead"
    GUARD = "guard"


class PresenceFailed(AgentsError):
    """Names the Asterisk node and the action that failed (``details``: ``{"node": ...}``)."""

    error_id = "presence_failed"
    status = 502

    def __init__(self, node: str, message: str) -> None:
        super().__init__(message, {"node": node})
        self.node = node


def _ok(reply: Any) -> bool:
    return str(reply.get("Response", "")).lower() == "success"


class Presence:
    def __init__(
        self,
        directory: OperatorDirectory,
        nodes: Sequence[AmiNode],
        document: Callable[[], IvrDocument],
        is_logged_in: Callable[[str], bool],
        pauses: PauseWriter | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._directory = directory
        self._nodes = nodes
        self._document = document
        self._is_logged_in = is_logged_in
        self._pauses = pauses
        self._clock = clock
        # operator -> queue -> "in" | "out": a shift lead's moves, until the operator logs out
        self._moved: dict[str, dict[str, str]] = {}

    async def login(self, operator_id: str) -> list[str]:
        """Join every queue the skills cover; returns the queues."""
        operator = await asyncio.to_thread(self._directory.get, operator_id)
        joined = []
        for member in memberships(operator, self._document()):
            await self._each_node(
                {
                    "Action": "QueueAdd",
                    "Queue": member.queue,
                    "Interface": operator.interface,
                    "MemberName": operator.id,
                    "StateInterface": operator.interface,
                    "Penalty": str(member.penalty),
                    "Paused": "false",
                },
                accept=("already there",),
            )
            joined.append(member.queue)
        log.info("operator %s logged in to %d queues", operator.id, len(joined))
        return joined

    async def logout(self, operator_id: str) -> None:
        operator = await asyncio.to_thread(self._directory.get, operator_id)
        for queue in self._document().queue_names():
            await self._each_node(
                {"Action": "QueueRemove", "Queue": queue, "Interface": operator.interface},
                accept=("not there", "unable to remove"),
            )
        self._moved.pop(operator.id, None)  # the next shift starts from the skills' queues
        if self._pauses is not None:
            await self._pauses.ended(operator.id, self._clock())
        log.info("operator %s logged out", operator.id)

    async def pause(
        self,
        operator_id: str,
        reason: PauseReason,
        source: PauseSource = PauseSource.OPERATOR,
        rule: str | None = None,
        record: bool = True,
    ) -> None:
        """``record=False``: a pause already in the log, applied again (after a restart).
        ``recovery`` is the burnout guard's own: nobody else starts one."""
        if reason is PauseReason.RECOVERY and source is not PauseSource.GUARD and record:
            raise ReservedPauseReason(
                "the pause reason 'recovery' is the burnout guard's own", where("body.reason", "reserved")
            )
        operator = await self._logged_in(operator_id)
        await self._each_node(
            {
                "Action": "QueuePause",
                "Interface": operator.interface,
                "Paused": "true",
                "Reason": reason.value,
            }
        )
        if self._pauses is not None and record:
            await self._pauses.started(operator.id, reason.value, source.value, self._clock(), rule)
        log.info("operator %s paused: %s (%s)", operator.id, reason.value, source.value)

    async def resume(self, operator_id: str) -> None:
        operator = await self._logged_in(operator_id)
        await self._each_node({"Action": "QueuePause", "Interface": operator.interface, "Paused": "false"})
        if self._pauses is not None:
            await self._pauses.ended(operator.id, self._clock())
        log.info("operator %s resumed", operator.id)

    async def move(self, operator_id: str, queue: str, into: bool, member_of: set[str], paused: str) -> None:
        """A shift lead moves a logged-in operator into (``into``) or out of a queue for the rest
        of the shift: QueueAdd (paused like the rest when ``paused`` names a reason) or
        QueueRemove on every node. Logging out removes every queue; the next login joins the
        skills' queues again. ``member_of``: the queues the operator is in now."""
        operator = await self._logged_in(operator_id)
        if queue not in self._document().queue_names():
            raise UnknownQueue(f"queue '{queue}' is not in the live IVR document")
        if into and queue in member_of:
            raise AlreadyInQueue(f"operator '{operator.id}' is in queue '{queue}' already")
        if not into and queue not in member_of:
            raise NotInQueue(f"operator '{operator.id}' is not in queue '{queue}'")
        if into:
            add = {"Action": "QueueAdd", "Queue": queue, "Interface": operator.interface}
            add |= {"MemberName": operator.id, "StateInterface": operator.interface, "Penalty": "0"}
            await self._each_node({**add, "Paused": "true" if paused else "false"}, accept=("already there",))
            if paused:  # the reason too, as the other queues show it
                pause = {"Action": "QueuePause", "Interface": operator.interface, "Queue": queue}
                await self._each_node({**pause, "Paused": "true", "Reason": paused})
        else:
            remove = {"Action": "QueueRemove", "Queue": queue, "Interface": operator.interface}
            await self._each_node(remove, accept=("not there",))
        self._moved.setdefault(operator.id, {})[queue] = "in" if into else "out"
        log.info("operator %s moved %s queue %s", operator.id, "into" if into else "out of", queue)

    def moves(self, operator_id: str) -> dict[str, str]:
        """The shift lead's moves of this operator this shift: queue -> "in" | "out"."""
        return dict(self._moved.get(operator_id, {}))

    async def escalate(self, operator_id: str, node: str, channel: str, context: str) -> None:
        """Hand the operator's caller on: a blind transfer from the operator's channel, so the
        caller's own channel (whose name may hold their number) is never named here."""
        target = next((n for n in self._nodes if n.name == node), None)
        if target is None:
            raise PresenceFailed(node, f"node '{node}' of the call is not configured")
        await self._send(
            target, {"Action": "BlindTransfer", "Channel": channel, "Context": context, "Exten": "s"}
        )
        log.info("operator %s escalated a call", operator_id)

    async def _logged_in(self, operator_id: str) -> Operator:
        operator = await asyncio.to_thread(self._directory.get, operator_id)
        if not self._is_logged_in(operator.id):
            raise NotLoggedIn(f"operator '{operator.id}' is not logged in")
        return operator

    async def _each_node(self, action: dict[str, str], accept: tuple[str, ...] = ()) -> None:
        """Every node; an action on one queue, the nodes that queue lives on (``queues[].node``).
        On a line of several nodes, a node where the operator is in no queue has nothing to pause."""
        queue = self._document().queue(action["Queue"]) if "Queue" in action else None
        if queue is None and len(self._nodes) > 1:
            accept = (*accept, "interface not found")
        for node in self._nodes:
            if queue is None or queue.lives_on(node.name):
                await self._send(node, action, accept)

    @staticmethod
    async def _send(node: AmiNode, action: dict[str, str], accept: tuple[str, ...] = ()) -> None:
        try:
            reply = await node.send(action)
        except AmiUnavailable as exc:
            what = f"{action['Action']} on node '{node.name}'"
            raise PresenceFailed(node.name, f"{what} failed: {exc.reason}") from exc
        message = str(reply.get("Message", "")).lower()
        if not _ok(reply) and not any(text in message for text in accept):
            raise PresenceFailed(node.name, f"{action['Action']} on node '{node.name}' refused: {message}")
