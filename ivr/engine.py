"""One published IVR version, compiled: a caller's walk as a pure state machine.

The walk never does I/O. A driver (FastAGI now, TwiML later) turns each :class:`Ask` into
prompts played and digits read, feeds the digits back, and carries out the final
:class:`Route`. The same walk answers ``simulate`` requests without a call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from ivr.document import (
    CORE_PREFIX,
    Action,
    BackAction,
    IvrDocument,
    LanguageAction,
    OperatorAction,
    ReferralAction,
    RepeatAction,
    SubmenuAction,
    Topic,
    TopicAction,
)
from ivr.schedule import is_open


class RouteKind(StrEnum):
    QUEUE = "queue"
    REFERRAL = "referral"


class RouteReason(StrEnum):
    CHOSEN = "chosen"
    OPERATOR = "operator"
    NO_INPUT = "no_input"
    INVALID_INPUT = "invalid_input"
    AFTER_HOURS = "after_hours"
    TOO_MANY_STEPS = "too_many_steps"  # repeat, back and forth: a caller going round in circles


# However a caller answers ('9' to repeat forever, back and forth between two menus, a draft
# whose silence repeats), after this many answers the walk ends at a human.
MIN_ANSWERS = 10


@dataclass(frozen=True)
class Ask:
    """Play ``prompts`` (any digit in ``escape`` interrupts) and read one key."""

    node: str
    prompts: tuple[str, ...]
    timeout_ms: int
    language: str
    attempt: int
    escape: str
    max_digits: int = 1


@dataclass(frozen=True)
class Route:
    kind: RouteKind
    reason: RouteReason
    language: str
    path: str
    nodes: tuple[str, ...]
    queue: str | None = None
    topic: str | None = None
    priority: int = 0
    overflow_queue: str | None = None
    overflow_after_seconds: int | None = None
    overflow_waiting_over: int | None = None
    referral: str | None = None
    referral_number: str | None = None
    announce: tuple[str, ...] = ()
    after_hours: bool = False
    survey: bool = False  # the caller is asked to rate the call after the operator hangs up
    switchboarded_from: str | None = None  # a shift lead's redirect sent the caller on from this queue


# (prompt id, language) -> what Asterisk plays (a path without extension).
PromptResolver = Callable[[str, str], str]


@dataclass(frozen=True)
class Engine:
    version: int
    document: IvrDocument
    prompt_paths: Mapping[tuple[str, str], str]

    def play(self, prompt: str, language: str) -> str:
        if prompt.startswith(CORE_PREFIX):
            return prompt.removeprefix(CORE_PREFIX)
        return self.prompt_paths[(prompt, language)]

    @property
    def max_answers(self) -> int:
        """Every node, every try, twice over; at least :data:`MIN_ANSWERS`."""
        nodes = self.document.menu.nodes.values()
        return max(MIN_ANSWERS, len(nodes) * max((n.tries for n in nodes), default=1) * 2)

    def language(self, requested: str | None) -> str:
        """The channel's language if the document has it, else the document's default."""
        doc = self.document
        return requested if requested in doc.languages else doc.default_language

    def walk(self, at: datetime, language: str | None = None) -> Walk:
        return Walk(self, at, self.language(language))


@dataclass
class Walk:
    engine: Engine
    at: datetime
    language: str
    stack: list[str] = field(default_factory=list)
    attempt: int = 1
    pressed: list[str] = field(default_factory=list)
    visited: list[str] = field(default_factory=list)
    answers: int = 0

    @property
    def path(self) -> str:
        return ",".join(self.pressed)

    @property
    def node(self) -> str:
        return self.stack[-1]

    def start(self, node: str | None = None) -> Ask:
        """At the menu's entry, or at ``node`` (a walk from the middle: ivr/silence.py)."""
        return self._enter(node or self.engine.document.menu.entry)

    def answer(self, digits: str) -> Ask | Route:
        """Feed what the caller pressed ('' for nothing) and get the next step."""
        self.answers += 1
        step = self._next(digits)
        if isinstance(step, Ask) and self.answers >= self.engine.max_answers:
            return self._queue(self.engine.document.fallback_queue, RouteReason.TOO_MANY_STEPS)
        return step

    def _next(self, digits: str) -> Ask | Route:
        node = self.engine.document.menu.nodes[self.node]
        if digits:
            self.pressed.append(digits)
        action = node.options.get(digits) if digits else None  # type: ignore[call-overload]
        if action is not None:
            return self._act(action, RouteReason.CHOSEN)
        if self.attempt < node.tries:
            self.attempt += 1
            return self._ask()
        fallback = node.invalid if digits else node.no_input
        return self._act(fallback, RouteReason.INVALID_INPUT if digits else RouteReason.NO_INPUT)

    # -- steps ---------------------------------------------------------------------------------
    def _enter(self, node_id: str) -> Ask:
        self.stack.append(node_id)
        self.visited.append(node_id)
        self.attempt = 1
        return self._ask()

    def _ask(self) -> Ask:
        node = self.engine.document.menu.nodes[self.node]
        # A choice of language says itself in every language offered, the caller's own first.
        offered = [a.language for a in node.options.values() if isinstance(a, LanguageAction)]
        spoken = dict.fromkeys([self.language, *offered] if offered else [self.language])
        return Ask(
            node=self.node,
            prompts=tuple(self.engine.play(node.prompt, lang) for lang in spoken),
            timeout_ms=node.timeout_seconds * 1000,
            language=self.language,
            attempt=self.attempt,
            escape="".join(sorted(node.options)),
        )

    def _act(self, action: Action, reason: RouteReason) -> Ask | Route:
        doc = self.engine.document
        if isinstance(action, SubmenuAction):
            return self._enter(action.node)
        if isinstance(action, LanguageAction):
            self.language = action.language
            return self._enter(action.next)
        if isinstance(action, RepeatAction):
            return self._ask()
        if isinstance(action, BackAction):
            if len(self.stack) > 1:
                self.stack.pop()
            self.attempt = 1
            return self._ask()
        if isinstance(action, TopicAction):
            topic = doc.topic(action.topic)
            assert topic is not None  # validated before publishing
            return self._topic(topic, reason)
        if isinstance(action, ReferralAction):
            return self._referral(action.referral, reason)
        assert isinstance(action, OperatorAction)
        why = RouteReason.OPERATOR if reason is RouteReason.CHOSEN else reason
        return self._queue(action.queue or doc.fallback_queue, why)

    def _route(self, **fields: object) -> Route:
        return Route(language=self.language, path=self.path, nodes=tuple(self.visited), **fields)  # type: ignore[arg-type]

    def _queue(self, queue: str, reason: RouteReason, **extra: object) -> Route:
        return self._route(kind=RouteKind.QUEUE, reason=reason, queue=queue, **extra)

    def _topic(self, topic: Topic, reason: RouteReason) -> Route:
        schedule = self.engine.document.schedule(topic.schedule) if topic.schedule else None
        if schedule is not None and not is_open(schedule, self.at):
            return self._after_hours(topic)
        overflow = topic.overflow
        return self._queue(
            topic.queue,
            reason,
            topic=topic.id,
            priority=topic.priority,
            overflow_queue=overflow.queue if overflow else None,
            overflow_after_seconds=overflow.after_seconds if overflow else None,
            overflow_waiting_over=overflow.when_waiting_over if overflow else None,
            survey=topic.survey,
        )

    def _after_hours(self, topic: Topic) -> Route:
        after = topic.after_hours
        assert after is not None  # validated: a scheduled topic has an after-hours plan
        announce = (self.engine.play(after.prompt, self.language),) if after.prompt else ()
        referral = self.engine.document.referral(after.referral) if after.referral else None
        if referral is not None and self._referral_open(referral.id):
            return self._route(
                kind=RouteKind.REFERRAL,
                reason=RouteReason.AFTER_HOURS,
                topic=topic.id,
                referral=referral.id,
                referral_number=referral.number,
                announce=announce,
                after_hours=True,
            )
        queue = after.queue or self.engine.document.fallback_queue
        return self._queue(
            queue,
            RouteReason.AFTER_HOURS,
            topic=topic.id,
            priority=topic.priority,
            announce=announce,
            after_hours=True,
            survey=topic.survey,
        )

    def _referral_open(self, referral_id: str) -> bool:
        doc = self.engine.document
        referral = doc.referral(referral_id)
        schedule = doc.schedule(referral.schedule) if referral and referral.schedule else None
        return schedule is None or is_open(schedule, self.at)

    def _referral(self, referral_id: str, reason: RouteReason) -> Route:
        referral = self.engine.document.referral(referral_id)
        assert referral is not None  # validated before publishing
        if not self._referral_open(referral_id):
            return self._queue(self.engine.document.fallback_queue, RouteReason.AFTER_HOURS, after_hours=True)
        return self._route(
            kind=RouteKind.REFERRAL,
            reason=reason,
            referral=referral.id,
            referral_number=referral.number,
        )
