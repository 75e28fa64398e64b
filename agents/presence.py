"""Operators logging in and out and pausing, carried out through AMI on every node: QueueAdd to
each queue the operator's skills cover, QueueRemove, QueuePause with a reason."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum
from typing import Any

from agents.directory import Operator, OperatorDirectory, memberships
from agents.exceptions import AgentsError, NotLoggedIn
from ivr.model import IvrDocument
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


class PresenceFailed(AgentsError):
    error_id = "presence_failed"
    status = 502


def _ok(reply: Any) -> bool:
    return str(reply.get("Response", "")).lower() == "success"


class Presence:
    def __init__(
        self,
        directory: OperatorDirectory,
        nodes: Sequence[AmiNode],
        document: Callable[[], IvrDocument],
        is_logged_in: Callable[[str], bool],
    ) -> None:
        self._directory = directory
        self._nodes = nodes
        self._document = document
        self._is_logged_in = is_logged_in

    async def login(self, operator_id: str) -> list[str]:
        """Join every queue the skills cover; returns the queues."""
        operator = self._directory.get(operator_id)
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
        operator = self._directory.get(operator_id)
        for queue in self._document().queue_names():
            await self._each_node(
                {"Action": "QueueRemove", "Queue": queue, "Interface": operator.interface},
                accept=("not there", "unable to remove"),
            )
        log.info("operator %s logged out", operator.id)

    async def pause(self, operator_id: str, reason: PauseReason) -> None:
        operator = self._logged_in(operator_id)
        await self._each_node(
            {
                "Action": "QueuePause",
                "Interface": operator.interface,
                "Paused": "true",
                "Reason": reason.value,
            }
        )
        log.info("operator %s paused: %s", operator.id, reason.value)

    async def resume(self, operator_id: str) -> None:
        operator = self._logged_in(operator_id)
        await self._each_node({"Action": "QueuePause", "Interface": operator.interface, "Paused": "false"})
        log.info("operator %s resumed", operator.id)

    def _logged_in(self, operator_id: str) -> Operator:
        operator = self._directory.get(operator_id)
        if not self._is_logged_in(operator.id):
            raise NotLoggedIn(f"operator '{operator.id}' is not logged in")
        return operator

    async def _each_node(self, action: dict[str, str], accept: tuple[str, ...] = ()) -> None:
        for node in self._nodes:
            try:
                reply = await node.send(action)
            except AmiUnavailable as exc:
                what = f"{action['Action']} on node '{node.name}'"
                raise PresenceFailed(f"{what} failed: {exc.reason}") from exc
            message = str(reply.get("Message", "")).lower()
            if not _ok(reply) and not any(text in message for text in accept):
                raise PresenceFailed(f"{action['Action']} on node '{node.name}' refused: {message}")
