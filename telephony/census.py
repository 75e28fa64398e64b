"""The census after every AMI login: which calls still have a channel, and which an operator
answered while nobody listened.

The dialplan notes each answered call's id in AstDB (``hotline-answered``, run by Queue on the
operator's channel). Read after CoreShowChannels and then cleared, those notes let a call that
was answered and ended during a restart be recorded as answered rather than abandoned. Notes of
calls the service saw itself are useless, so the family is also cleared hourly
(:func:`forget_answered`): AstDB never holds more than about an hour of call ids, and never a
number.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Final

from telephony.ami_wire import header
from telephony.events import LiveCalls
from telephony.scrub import answered_from, live_calls_from
from telephony.variables import ASTDB_ANSWERED

log = logging.getLogger("hotline.ami")

ACTION_CORE_SHOW_CHANNELS: Final = "CoreShowChannels"
ACTION_DB_GET_TREE: Final = "DBGetTree"
ACTION_DB_DEL_TREE: Final = "DBDelTree"
FORGET_EVERY_S: Final = 3600.0

Send = Callable[[Mapping[str, str]], Awaitable[Any]]


class CensusRefused(Exception):
    """CoreShowChannels was refused: ``reason`` is the reply's fixed text, capped."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


async def take_census(send: Send, node: str) -> LiveCalls:
    """The calls up (CoreShowChannels), then the calls answered since the last census (read
    after the channels: a call that ended between the two is among the answered ones)."""
    asked = datetime.now(UTC)
    replies = await send({"Action": ACTION_CORE_SHOW_CHANNELS})
    if not isinstance(replies, list):
        raise CensusRefused(f"{ACTION_CORE_SHOW_CHANNELS} refused ({header(replies, 'Message', 80)})")
    live = live_calls_from(replies, node, asked)
    notes = await send({"Action": ACTION_DB_GET_TREE, "Family": ASTDB_ANSWERED})
    if not isinstance(notes, list):  # an empty family is an empty list; else an error reply
        why = header(notes, "Message", 80)
        log.warning("%s: %s refused (%s): answered calls not read", node, ACTION_DB_GET_TREE, why)
        return live
    await forget_answered(send, node)
    return replace(live, answered=answered_from(notes, ASTDB_ANSWERED))


async def forget_answered(send: Send, node: str) -> None:
    """Clear the answered calls' notes (a family already empty is refused: nothing to do)."""
    reply = await send({"Action": ACTION_DB_DEL_TREE, "Family": ASTDB_ANSWERED})
    message = header(reply, "Message", 80)
    refused = header(reply, "Response", 20).lower() == "error"
    if not isinstance(reply, list) and refused and "not found" not in message.lower():
        log.warning("%s: %s refused (%s)", node, ACTION_DB_DEL_TREE, message)
