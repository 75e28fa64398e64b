"""The caller's walk through a menu, as a pure state machine (no I/O, no wire format).

The same walk serves every transport: the FastAGI driver plays prompts and reads DTMF; a TwiML
driver later turns each :class:`Ask` into a ``<Gather>``. A caller who presses nothing, or only
wrong keys, ends at a human on the default queue: never a hang-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from hotline.settings import Settings


class RouteReason(StrEnum):
    CHOSEN = "chosen"
    NO_INPUT = "no_input"
    INVALID_INPUT = "invalid_input"


@dataclass(frozen=True)
class Topic:
    id: str
    name: str
    queue: str


@dataclass(frozen=True)
class Menu:
    version: str
    greeting: str
    prompt: str
    timeout_ms: int
    attempts: int
    options: Mapping[str, Topic]
    default_queue: str

    @property
    def digits(self) -> str:
        return "".join(sorted(self.options))

    @classmethod
    def from_settings(cls, settings: Settings, version: str = "config") -> Menu:
        topics = {t.id: Topic(t.id, t.name, t.queue) for t in settings.topics}
        menu = settings.menu
        return cls(
            version=version,
            greeting=menu.greeting,
            prompt=menu.prompt,
            timeout_ms=menu.timeout_seconds * 1000,
            attempts=menu.attempts,
            options={digit: topics[topic] for digit, topic in menu.options.items()},
            default_queue=menu.default_queue,
        )


@dataclass(frozen=True)
class Ask:
    """Play ``prompt`` and read up to ``max_digits`` digits within ``timeout_ms``."""

    prompt: str
    timeout_ms: int
    max_digits: int
    attempt: int


@dataclass(frozen=True)
class Route:
    """Where the caller goes; the IVR is done."""

    queue: str
    topic: str | None
    reason: RouteReason
    path: str


@dataclass
class MenuRun:
    menu: Menu
    attempt: int = 1
    pressed: list[str] = field(default_factory=list)

    @property
    def path(self) -> str:
        return ",".join(self.pressed)

    def ask(self) -> Ask:
        return Ask(self.menu.prompt, self.menu.timeout_ms, 1, self.attempt)

    def answer(self, digits: str | None) -> Ask | Route:
        """Feed what the caller pressed (None or '' for nothing) and get the next step."""
        if digits:
            self.pressed.append(digits)
            topic = self.menu.options.get(digits)
            if topic is not None:
                return Route(topic.queue, topic.id, RouteReason.CHOSEN, self.path)
        if self.attempt >= self.menu.attempts:
            reason = RouteReason.INVALID_INPUT if digits else RouteReason.NO_INPUT
            return Route(self.menu.default_queue, None, reason, self.path)
        self.attempt += 1
        return self.ask()
