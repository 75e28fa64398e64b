"""The IVR as data: the document administrators edit, validate, publish and roll back.

One document holds everything a caller's path depends on: languages, prompts, the menu tree,
topics, queues, schedules and the referral directory. It is imported from and exported to
YAML, stored as versions in the database, and compiled into an :class:`ivr.engine.Engine`.
Structural rules (types, slugs, digits) live here; rules across the document (references,
reachability, completeness) live in ``ivr/validation.py`` so that every problem is reported
with its place at once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ivr.desk import Emergency, Guidance, SummaryForm
from ivr.schedule import Schedule

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Digit = Literal["0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "*", "#"]
SILENCE_LIMIT_SECONDS = 15  # default: a silent caller reaches a person within this
CORE_PREFIX = "core:"  # a prompt reference naming one of Asterisk's own sounds, e.g. core:beep
# A queue's periodic announcement, one file name for every language: <dir>/<lang>/<prefix><prompt>.
ANNOUNCE_PREFIX = "queue-announce-"
# A prompt of the document (a slug) or one of Asterisk's sounds (core:queue-thankyou,
# core:digits/1). Prompts reach AGI commands and queues.conf: no spaces, separators or dots.
PromptRef = Annotated[
    str,
    StringConstraints(
        pattern=r"^(?:[a-z][a-z0-9_-]{0,39}|core:[a-z0-9][a-z0-9_-]{0,39}(?:/[a-z0-9][a-z0-9_-]{0,39}){0,2})$"
    ),
]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# -- what a digit does ---------------------------------------------------------------------------
class SubmenuAction(_Model):
    action: Literal["submenu"]
    node: Slug


class TopicAction(_Model):
    action: Literal["topic"]
    topic: Slug


class ReferralAction(_Model):
    action: Literal["referral"]
    referral: Slug


class RepeatAction(_Model):
    action: Literal["repeat"]


class BackAction(_Model):
    action: Literal["back"]


class OperatorAction(_Model):
    """A human: the document's fallback queue unless a queue is named."""

    action: Literal["operator"]
    queue: Slug | None = None


class LanguageAction(_Model):
    action: Literal["language"]
    language: Language
    next: Slug


Action = Annotated[
    SubmenuAction
    | TopicAction
    | ReferralAction
    | RepeatAction
    | BackAction
    | OperatorAction
    | LanguageAction,
    Field(discriminator="action"),
]
TERMINAL = (TopicAction, ReferralAction, OperatorAction)


def _operator() -> OperatorAction:
    return OperatorAction(action="operator")


class MenuNode(_Model):
    prompt: PromptRef
    options: dict[Digit, Action] = Field(default_factory=dict)
    timeout_seconds: int = Field(5, ge=1, le=30)
    tries: int = Field(2, ge=1, le=5)
    # After `tries` silent or wrong attempts: by default a human, never a hang-up.
    no_input: Action = Field(default_factory=_operator)
    invalid: Action = Field(default_factory=_operator)


class Menu(_Model):
    entry: Slug
    nodes: dict[Slug, MenuNode]


# -- where calls go ------------------------------------------------------------------------------
class Announcements(_Model):
    """What a waiting caller hears besides the music: their position and the expected wait
    (Asterisk's own sounds) every ``every_seconds``, and a prompt of the document's own."""

    position: bool = False
    hold_time: bool = False
    every_seconds: int = Field(60, ge=15, le=3600)
    periodic_prompt: PromptRef | None = None
    periodic_seconds: int = Field(60, ge=15, le=3600)


class Queue(_Model):
    name: Slug
    strategy: Literal["rrmemory", "leastrecent", "fewestcalls", "linear", "ringall", "random"] = "leastrecent"
    service_level_seconds: int = Field(20, ge=1, le=3600)
    # After each call the operator gets this long before the next one is offered.
    wrapup_seconds: int = Field(30, ge=0, le=3600)
    ring_seconds: int = Field(15, ge=5, le=300)
    announcements: Announcements = Field(default_factory=Announcements)
    # Nobody logged in: "wait" keeps callers queued (music, announcements) until someone
    # logs in; "fallback" sends them on to the fallback queue (never used by that queue).
    when_unstaffed: Literal["wait", "fallback"] = "wait"
    # The Asterisk node (region) the queue lives on; None: on every node, each with its own
    # operators. A call for a queue of another node goes there over the trunk between nodes.
    node: Slug | None = None

    def lives_on(self, node: str) -> bool:
        return self.node is None or self.node == node


class Overflow(_Model):
    """Also offer the call to a second queue after a wait, or at once when too many wait; the
    second queue may live on another node (region): the call goes there, topic and priority kept."""

    queue: Slug
    after_seconds: int | None = Field(None, ge=5, le=3600)
    when_waiting_over: int | None = Field(None, ge=0, le=1000)


class AfterHours(_Model):
    """What a caller hears and where they go when the topic's schedule is closed."""

    prompt: PromptRef | None = None
    referral: Slug | None = None
    queue: Slug | None = None  # a 24/7 queue instead of (or when there is no) referral


class Topic(_Model):
    id: Slug
    names: dict[Language, str]
    queue: Slug
    priority: int = Field(0, ge=0, le=10)  # QUEUE_PRIO: higher is answered first
    overflow: Overflow | None = None
    schedule: Slug | None = None  # None: always open
    after_hours: AfterHours | None = None
    survey: bool = False  # after the operator hangs up, the caller may rate the call 1-5
    guidance: Guidance | None = None  # the line's protocol for this topic (ivr/desk.py)


class Referral(_Model):
    """A partner organisation's line; numbers here are organisations', never callers'."""

    id: Slug
    organisation: str = Field(min_length=1, max_length=120)
    description: str = ""
    number: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{3,20}$")]
    topics: list[Slug] = Field(default_factory=list)
    schedule: Slug | None = None  # its hours; None: always open
    languages: list[Language] = Field(default_factory=list)  # spoken there; empty: not said
    region: str | None = Field(None, min_length=1, max_length=80)  # None: the whole country


class PromptSource(_Model):
    """Text the project turns into audio, or an uploaded recording (by its content hash)."""

    text: str | None = Field(None, min_length=1, max_length=1000)
    recording: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")] | None = None


class Survey(_Model):
    """The post-call question (press 1 to 5) and the thanks; prompts of the document."""

    prompt: PromptRef
    thanks: PromptRef | None = None
    timeout_seconds: int = Field(6, ge=2, le=30)


class IvrDocument(_Model):
    languages: list[Language] = Field(min_length=1)
    default_language: Language
    fallback_queue: Slug
    # Where an operator hands a caller on (seniors serve it); the caller goes first there.
    escalation_queue: Slug | None = None
    survey: Survey | None = None
    queues: list[Queue]
    topics: list[Topic] = Field(default_factory=list)
    schedules: list[Schedule] = Field(default_factory=list)
    referrals: list[Referral] = Field(default_factory=list)
    prompts: dict[Slug, dict[Language, PromptSource]] = Field(default_factory=dict)
    menu: Menu
    summary: SummaryForm | None = None  # the operator's after-call summary (ivr/desk.py)
    emergency: Emergency | None = None
    # A caller who presses nothing reaches a person within this (ivr/silence.py); None: 15 s.
    silence_limit: int | None = Field(None, ge=5, le=300)

    @property
    def silence_limit_seconds(self) -> int:
        return SILENCE_LIMIT_SECONDS if self.silence_limit is None else self.silence_limit

    def topic(self, topic_id: str) -> Topic | None:
        return next((t for t in self.topics if t.id == topic_id), None)

    def referral(self, referral_id: str) -> Referral | None:
        return next((r for r in self.referrals if r.id == referral_id), None)

    def schedule(self, schedule_id: str) -> Schedule | None:
        return next((s for s in self.schedules if s.id == schedule_id), None)

    def queue_names(self) -> list[str]:
        return [q.name for q in self.queues]

    def queue(self, name: str) -> Queue | None:
        return next((q for q in self.queues if q.name == name), None)
