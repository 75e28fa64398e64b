"""panoramisk 1.4, wrapped for one connection at a time (used by telephony/ami.py only).

Fixes and restraints over the released package: no auto-reconnect and no unchecked Ping (the
supervisor in ami.py owns both); pending actions fail when the link closes instead of never
resolving; QueueAdd's reply resolves; an Originate without ``Async`` does not break the link;
dispatch by exact event name; panoramisk's log records reduced to a fixed text.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, Final

from panoramisk import Manager
from panoramisk.actions import Action
from panoramisk.ami_protocol import AMIProtocol

WIRE_LOGGER: Final = "hotline.ami.wire"


class RedactWire(logging.Filter):
    """panoramisk's records may hold caller numbers or the secret: keep only the level."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = f"panoramisk: <{record.levelname}> (content withheld)"
        record.args = None
        record.exc_info = record.exc_text = record.stack_info = None
        return True


def wire_logger() -> logging.Logger:
    wire = logging.getLogger(WIRE_LOGGER)
    if not any(isinstance(f, RedactWire) for f in wire.filters):
        wire.addFilter(RedactWire())
        wire.setLevel(logging.WARNING)
        logging.getLogger("panoramisk").setLevel(logging.WARNING)
    return wire


class WireProtocol(AMIProtocol):  # type: ignore[misc]
    def close(self) -> None:
        """Fail pending actions at once instead of leaving their futures unresolved."""
        responses = getattr(self, "responses", None) or {}
        for action in list(responses.values()):
            if not action.future.done():
                action.future.set_exception(ConnectionResetError("AMI connection closed"))
        responses.clear()
        super().close()


class WireAction(Action):  # type: ignore[misc]
    @property
    def multi(self) -> bool:
        """panoramisk's rule minus two bugs: QueueAdd's "Added interface to queue" is one
        reply (its future never resolved), and a missing Async header is no KeyError."""
        if self.as_list is not None:
            return bool(self.as_list)
        first = self.responses[0]
        message = str(first.get("message", "")).lower()
        queued = message.endswith("successfully queued")
        return bool(
            first.get("subevent") == "Start"
            or first.get("eventlist") == "start"
            or "will follow" in message
            or (queued and str(self.get("async", "false")).lower() != "false")
        )


class WireManager(Manager):  # type: ignore[misc]
    """panoramisk's Manager for one connection: no reconnect, no Ping, exact-name dispatch."""

    def __init__(self, on_lost: Callable[[], None], **config: Any) -> None:
        super().__init__(**config)
        self.callbacks.clear()  # drop panoramisk's FullyBooted re-send of stale actions
        self.patterns.clear()
        self._on_lost = on_lost

    async def open(self, limit: float) -> None:
        loop = asyncio.get_running_loop()
        connecting = loop.create_connection(WireProtocol, self.config["host"], self.config["port"])
        made = loop.create_future()
        made.set_result(await asyncio.wait_for(connecting, limit))
        self.connection_made(made)  # no username in config: panoramisk does not log in

    def forget(self, action: WireAction) -> None:
        """Drop a timed-out action so a late reply cannot pile up in panoramisk's table."""
        responses = getattr(self.protocol, "responses", None)
        if responses is not None:
            responses.pop(action.id, None)

    def ping(self) -> None:
        """Disabled: its replies were never checked. AmiNode runs a checked heartbeat."""

    def connection_lost(self, exc: object) -> None:
        """Only tell the supervisor; panoramisk would retry every reconnect_timeout forever."""
        self._connected = False
        self._on_lost()

    def dispatch(self, event: Any) -> list[str]:
        """panoramisk's dispatch, by exact name instead of one regex per registered pattern."""
        event.manager = self
        name = event.event
        for callback in self.callbacks.get(name, ()):
            callback(self, event)
        return [name] if name in self.callbacks else []


def header(message: Any, name: str, cap: int) -> str:
    """A header safe to log: an event name or the fixed text of an error reply, capped."""
    try:
        value = message.get(name)
    except Exception:
        return "?"
    return value[:cap] if isinstance(value, str) else "?"
