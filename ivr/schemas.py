"""Pydantic I/O models of the IVR admin API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

from core.bounds import MAX_ID, Instant
from ivr.document import Referral, Topic
from ivr.engine import Route
from ivr.issues import Issue


class IssuePublic(BaseModel):
    where: str
    problem: str
    message: str

    @classmethod
    def of(cls, issue: Issue) -> IssuePublic:
        return cls(where=issue.where, problem=issue.problem, message=str(issue))


class IssuesPublic(BaseModel):
    valid: bool
    issues: list[IssuePublic]

    @classmethod
    def of(cls, issues: list[Issue]) -> IssuesPublic:
        return cls(valid=not issues, issues=[IssuePublic.of(i) for i in issues])


class SilencePublic(BaseModel):
    """How long a caller who presses nothing takes to reach a person (ivr/silence.py), in
    seconds, with the prompts' real audio: from the entry node, and from each node."""

    limit: int
    seconds: float
    by_node: dict[str, float]


class DraftPublic(IssuesPublic):
    document: dict[str, Any]
    based_on: int | None
    silence: SilencePublic | None = None  # None while the menu has problems that stop a walk


class PublishRequest(BaseModel):
    note: str = Field("", max_length=500)


class PublishedPublic(BaseModel):
    version: int


class RollbackRequest(BaseModel):
    version: int = Field(ge=1, le=MAX_ID)


class VersionPublic(BaseModel):
    number: int
    created_at: datetime
    author: str
    note: str
    checksum: str
    active: bool


class SimulateRequest(BaseModel):
    keys: list[Annotated[str, Field(max_length=8)]] = Field(
        default_factory=list, max_length=200, description="keys pressed at each step; '' = silence"
    )
    at: Instant | None = None
    language: str | None = Field(None, max_length=64)
    draft: bool = False


class RoutePublic(BaseModel):
    kind: str
    reason: str
    language: str
    path: str
    nodes: list[str]
    queue: str | None
    topic: str | None
    priority: int
    overflow_queue: str | None
    overflow_after_seconds: int | None
    overflow_waiting_over: int | None
    referral: str | None
    referral_number: str | None
    after_hours: bool
    announce: list[str]

    @classmethod
    def of(cls, route: Route) -> RoutePublic:
        return cls(
            kind=route.kind.value,
            reason=route.reason.value,
            language=route.language,
            path=route.path,
            nodes=list(route.nodes),
            queue=route.queue,
            topic=route.topic,
            priority=route.priority,
            overflow_queue=route.overflow_queue,
            overflow_after_seconds=route.overflow_after_seconds,
            overflow_waiting_over=route.overflow_waiting_over,
            referral=route.referral,
            referral_number=route.referral_number,
            after_hours=route.after_hours,
            announce=list(route.announce),
        )


class SimulationPublic(BaseModel):
    version: int | None
    # Each: node, prompts (what Asterisk plays), prompt_ids, texts (what the caller hears, in
    # the step's language; None for a recording), language, pressed.
    steps: list[dict[str, Any]]
    route: RoutePublic | None
    waiting_at: str | None
    announce_texts: list[str | None] = Field(default_factory=list)  # the route's announce, as text


class ChangePublic(BaseModel):
    """One item of the draft that differs from the live version."""

    section: Literal["settings", "topics", "schedules", "referrals", "queues", "prompts", "nodes"]
    id: str  # the item's id (a queue's name; a setting's top-level key)
    change: Literal["added", "removed", "changed"]
    fields: list[str]  # what changed inside it, as dotted paths (empty: added, removed, or a value)


class DiffPublic(BaseModel):
    against: int | None  # the live version's number; None: nothing is live yet
    changes: list[ChangePublic]
    unified: str  # the two YAML texts, as a unified diff (the live one first)


class ReferralPublic(BaseModel):
    id: str
    organisation: str
    description: str
    number: str  # an organisation's, never a caller's
    topics: list[str]
    languages: list[str]  # spoken there; empty: not said
    region: str | None  # None: the whole country
    open_now: bool  # by its hours (its schedule), at the moment asked; always, without hours

    @classmethod
    def of(cls, referral: Referral, open_now: bool) -> ReferralPublic:
        return cls(
            id=referral.id,
            organisation=referral.organisation,
            description=referral.description,
            number=referral.number,
            topics=list(referral.topics),
            languages=list(referral.languages),
            region=referral.region,
            open_now=open_now,
        )


class TopicPublic(BaseModel):
    """A topic of the live document as pages show it: its name in each language, its queue."""

    id: str
    names: dict[str, str]
    queue: str

    @classmethod
    def of(cls, topic: Topic) -> TopicPublic:
        return cls(id=topic.id, names=dict(topic.names), queue=topic.queue)
