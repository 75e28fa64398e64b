"""How AMI reaches the rooms: each node's endpoint from the settings, and the fan-out that hands
every typed event to every consumer."""

from __future__ import annotations

import logging
from collections.abc import Callable

from core.settings import AsteriskNodeSettings
from telephony.ami import AmiEndpoint
from telephony.events import AmiEvent

log = logging.getLogger("hotline")


def endpoint(node: AsteriskNodeSettings) -> AmiEndpoint:
    return AmiEndpoint(
        name=node.name,
        host=node.ami_host,
        port=node.ami_port,
        username=node.ami_user,
        secret=node.secret() or "",
    )


class EventFanout:
    """Hands each typed AMI event to every consumer; one consumer's bug never stops the others."""

    def __init__(self, consumers: list[Callable[[AmiEvent], None]]) -> None:
        self._consumers = consumers
        self.errors_total = 0

    def add(self, consumer: Callable[[AmiEvent], None]) -> None:
        self._consumers.append(consumer)

    def __call__(self, event: AmiEvent) -> None:
        for consume in self._consumers:
            try:
                consume(event)
            except Exception as exc:
                self.errors_total += 1
                log.error("event consumer failed on %s: %s", type(event).__name__, type(exc).__name__)
