"""Supervision's HTTP bodies (pydantic). Names are pseudonyms; nothing here holds a number."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from supervision.session import Mode, Session, State

Slug = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]


class SupervisionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    operator: Slug = Field(description="the operator whose call to supervise")
    mode: Mode = Field(description="listen: hear only; whisper: the operator hears you; barge: both do")


class SwitchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Mode


class ModePublic(BaseModel):
    mode: Mode
    at: datetime
    via: str = Field(description="api, keys (4, 5, 6 on the supervisor's phone) or code (a feature code)")
    by: str


class SessionPublic(BaseModel):
    id: str
    operator: str
    supervisor: str
    mode: Mode
    state: State
    started_at: datetime
    ended_at: datetime | None
    modes: list[ModePublic]
    answered_at: datetime | None = None
    ended_how: str | None = Field(None, description="ended, hung_up, call_ended, not_answered")
    origin: str = Field("api", description="api or code (a feature code on the supervisor's softphone)")

    @classmethod
    def of(cls, s: Session) -> SessionPublic:
        return cls(
            id=s.id,
            operator=s.operator,
            supervisor=s.supervisor,
            mode=s.mode,
            state=s.state,
            started_at=s.started_at,
            ended_at=s.ended_at,
            modes=[ModePublic(mode=m.mode, at=m.at, via=m.via, by=m.by) for m in s.modes],
            answered_at=s.answered_at,
            ended_how=None if s.ended_how is None else s.ended_how.value,
            origin=s.origin.value,
        )


class Notice(BaseModel):
    """For the operator's page: a supervisor hears this operator's call now."""

    mode: Mode
    since: datetime


class SupervisionList(BaseModel):
    sessions: list[SessionPublic]
    notice: Notice | None = Field(
        description="a supervisor hears your own call now (off when the line's setting says so)"
    )
