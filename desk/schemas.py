"""What the operator's desk shows of the call in front of an operator (issue 16, item 1). No
caller number: the call is known by its record id, and a repeat caller only by a count."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

Phase = Literal["none", "offered", "talking", "ended"]


class Named(BaseModel):
    id: str
    name: str


class ReferralView(BaseModel):
    id: str
    organisation: str
    number: str  # an organisation's line


class GuidanceView(BaseModel):
    """The topic's protocol in one language (the asked one when the document has it, else the
    call's, else the document's default)."""

    language: str
    summary: str
    steps: list[str]
    risk_questions: list[str]
    escalate_when: list[str]
    escalate_to: str | None = Field(description="the queue an operator hands the caller on to")
    referrals: list[ReferralView]
    issues: list[Named]
    example: bool = Field(description="shipped as an example: the line has not adapted it yet")


class FormField(BaseModel):
    """A field of the after-call summary as the page shows it: its options already those this
    call allows (its topic's issues; the document's referrals)."""

    id: str
    name: str
    kind: Literal["choice", "choices", "flag", "issues", "referral", "text"]
    required: bool
    options: list[Named]


class SummaryFormView(BaseModel):
    fields: list[FormField]
    text_max: int
    window_minutes: int


class CallView(BaseModel):
    record_id: str = Field(description="the call's record (its summary is saved against it)")
    offered_at: datetime
    answered_at: datetime | None
    ended_at: datetime | None
    waited_seconds: float | None = Field(description="in the queue, until answered (or until now)")
    talking_seconds: float | None = Field(description="since answered, until the end (or until now)")
    queue: str | None
    topic: str | None
    topic_name: str | None
    language: str | None
    path: str = Field(description="the keys pressed through the menu")
    priority: int
    after_hours: bool
    overflowed: bool
    escalated: bool
    fallback: bool = Field(description="the caller reached a human by the fallback path, without a topic")
    repeat_count: int | None = Field(
        description="calls from the same number in the window, this one included"
    )
    summary_saved: bool
    guidance: GuidanceView | None
    form: SummaryFormView | None = Field(description="the summary to fill in (PUT /api/calls/{id}/summary)")


class CallContext(BaseModel):
    operator: str
    state: Phase = Field(description="none, offered (ringing), talking, ended (until its summary is saved)")
    server_time: datetime = Field(description="for the page's timer, whatever the browser's clock")
    call: CallView | None
