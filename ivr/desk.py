"""What the IVR document holds for the operator's desk (issue 16): each topic's protocol (the
line's "case bank": steps, questions to assess risk, when and to whom to hand the caller on,
suggested referrals), the summary form an operator fills in after a call (enumerated values
only; free text only where a line turns it on), and the emergency line an operator can bring
into a call. Versioned, validated, published and rolled back with the rest of the document.

Texts are per language; validation (ivr/validation.py) asks for every language of the
document and for every queue and referral named to exist.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,39}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
Line = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=80)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GuidanceText(_Model):
    """A protocol in one language."""

    summary: Annotated[str, StringConstraints(max_length=600)] = ""
    steps: list[Line] = Field(default_factory=list, max_length=30)
    risk_questions: list[Line] = Field(default_factory=list, max_length=20)
    escalate_when: list[Line] = Field(default_factory=list, max_length=20)


class Guidance(_Model):
    """A topic's protocol: shown to the operator the moment its call is offered."""

    texts: dict[Language, GuidanceText]
    escalate_to: Slug | None = None  # a queue: the document's escalation queue if None
    referrals: list[Slug] = Field(default_factory=list, max_length=20)  # suggested, in order
    # What a call of this topic may be about: the values of a summary field of kind "issues".
    issues: dict[Slug, dict[Language, Name]] = Field(default_factory=dict, max_length=40)
    example: bool = False  # shipped as an example: the page says a line must adapt it


class SummaryField(_Model):
    """One field of the after-call summary. Kinds:

    - ``choice`` / ``choices``: one / several of ``values``;
    - ``flag``: yes or no;
    - ``issues``: several of the call's topic's ``guidance.issues``;
    - ``referral``: one of the document's referrals (the one given);
    - ``text``: free text, allowed only when the form's ``free_text`` is on; text that looks
      like a phone number, an e-mail address, a long run of digits or a street address is
      refused.
    """

    id: Slug
    names: dict[Language, Name]
    kind: Literal["choice", "choices", "flag", "issues", "referral", "text"]
    values: dict[Slug, dict[Language, Name]] = Field(default_factory=dict, max_length=40)
    required: bool = False


class SummaryForm(_Model):
    fields: list[SummaryField] = Field(default_factory=list, max_length=30)
    free_text: bool = False
    text_max: int = Field(300, ge=1, le=2000)
    # The operator who took the call (or a senior) may save its summary this long after it ended.
    window_minutes: int = Field(120, ge=1, le=7 * 24 * 60)


class Emergency(_Model):
    """The line an operator brings into a call when a caller is at imminent risk (an ambulance
    or crisis team): an organisation's number, never a caller's."""

    names: dict[Language, Name]
    number: Annotated[str, StringConstraints(pattern=r"^\+?[0-9]{3,20}$")]
