"""Pydantic I/O models of the agents room."""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field, StringConstraints

from agents.directory import Operator, Role
from agents.guard import Notice
from agents.pauses import PauseEntry
from agents.presence import PauseReason
from agents.state import OperatorState

OperatorId = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,39}$")]
Skills = dict[
    Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")], Annotated[int, Field(ge=1, le=3)]
]


# Line breaks, tabs, escapes, bidi overrides: a name shows on wallboards, pages and logs as typed.
_BIDI = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))


def _printable(name: str) -> str:
    if any(unicodedata.category(c) in ("Cc", "Zl", "Zp") or c in _BIDI for c in name):
        raise ValueError("a display name may not hold control characters (line breaks, tabs, escapes)")
    return name


DisplayName = Annotated[str, Field(min_length=1, max_length=80), AfterValidator(_printable)]


class OperatorCreate(BaseModel):
    id: OperatorId = Field(description="a pseudonym; it is also the softphone's SIP username")
    display_name: DisplayName
    role: Role = Role.OPERATOR
    skills: Skills = Field(default_factory=dict, description="topic id -> level 1..3")


class OperatorUpdate(BaseModel):
    display_name: DisplayName | None = None
    role: Role | None = None
    skills: Skills | None = None
    active: bool | None = None


class PauseRequest(BaseModel):
    reason: PauseReason


class NoticePublic(BaseModel):
    """The burnout guard speaking: a recovery pause it started, or a break it suggests."""

    rule: str
    message: str
    at: datetime
    until: datetime | None
    suggest_debrief: bool = Field(False, description="the page offers to ask for a debrief")
    figures: dict[str, str | float] = Field(
        default_factory=dict, description="the message's figures by name, for the page's own words"
    )


class StatePublic(BaseModel):
    status: str
    paused_reason: str
    queues: list[str]
    calls_taken: int
    since: datetime | None
    wrapup_until: datetime | None
    notices: list[NoticePublic]

    @classmethod
    def of(cls, state: OperatorState, notices: list[Notice] | None = None) -> StatePublic:
        return cls(
            status=state.status.value,
            paused_reason=state.paused_reason,
            queues=list(state.queues),
            calls_taken=state.calls_taken,
            since=state.since,
            wrapup_until=state.wrapup_until,
            notices=[
                NoticePublic(
                    rule=n.rule,
                    message=n.message,
                    at=n.at,
                    until=n.until,
                    suggest_debrief=n.suggest_debrief,
                    figures=dict(n.figures),
                )
                for n in notices or []
            ],
        )


class PausePublic(BaseModel):
    model_config = {"from_attributes": True}

    operator: str
    reason: str
    source: str
    rule: str | None
    started_at: datetime
    ended_at: datetime | None

    @classmethod
    def of(cls, entry: PauseEntry) -> PausePublic:
        return cls.model_validate(entry)


class AsteriskPublic(BaseModel):
    """Whether Asterisk has the account as saved. A change made while a node was unreachable
    is kept and applied when the node is back: ``pending`` names those nodes, with why."""

    applied: bool
    pending: dict[str, str] = Field(default_factory=dict, description="node -> why it waits")

    @classmethod
    def of(cls, pending: Mapping[str, str]) -> AsteriskPublic:
        return cls(applied=not pending, pending=dict(pending))


class OperatorPublic(BaseModel):
    id: str
    display_name: str
    role: Role
    skills: dict[str, int]
    active: bool
    state: StatePublic
    asterisk: AsteriskPublic

    @classmethod
    def of(
        cls, operator: Operator, state: StatePublic, pending: Mapping[str, str] | None = None
    ) -> OperatorPublic:
        return cls(
            id=operator.id,
            display_name=operator.display_name,
            role=operator.role,
            skills=operator.skills,
            active=operator.active,
            state=state,
            asterisk=AsteriskPublic.of(pending or {}),
        )


class SoftphonePublic(BaseModel):
    """What to type into a softphone. The password is shown only when it is made."""

    server: str
    port: int
    transport: str = "udp"
    username: str
    realm: str
    password: str | None = None
    feature_codes: dict[str, str] = Field(
        default_factory=lambda: {
            "*41": "log in",
            "*42": "log out",
            "*431 … *435": "pause: break, supervision, training, debrief, after-call work",
            "*40": "end the pause",
        }
    )


class CreatedPublic(BaseModel):
    operator: OperatorPublic
    softphone: SoftphonePublic
    api_token: str = Field(description="the person's own API token, shown once")
    password: str = Field(description="a one-time sign-in password, shown once; the person sets their own")
