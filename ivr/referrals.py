"""The referral directory as operators search it during a call (``GET /api/referrals``): by
topic, by a language spoken there, by words of the organisation, description or region, and by
whether the partner is open now (its schedule; none: always open)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ivr.document import IvrDocument, Referral
from ivr.schedule import is_open


@dataclass(frozen=True)
class ReferralQuery:
    """Every filter given must hold; None: not asked."""

    topic: str | None = None  # the referral lists this topic
    language: str | None = None  # spoken there (a referral that does not say is not matched)
    text: str | None = None  # in the organisation, description or region, case-insensitive
    open_now: bool | None = None  # True: open at the instant asked; False: closed then


@dataclass(frozen=True)
class Found:
    referral: Referral
    open_now: bool


def open_at(doc: IvrDocument, referral: Referral, at: datetime) -> bool:
    """Whether the partner is open at ``at`` (timezone-aware): always, without a schedule."""
    schedule = doc.schedule(referral.schedule) if referral.schedule else None
    return schedule is None or is_open(schedule, at)


def search(doc: IvrDocument, query: ReferralQuery, at: datetime) -> list[Found]:
    """The document's referrals that match, in the document's order."""
    found = (Found(r, open_at(doc, r, at)) for r in doc.referrals if _matches(r, query))
    return [f for f in found if query.open_now is None or f.open_now == query.open_now]


def _matches(referral: Referral, query: ReferralQuery) -> bool:
    if query.topic is not None and query.topic not in referral.topics:
        return False
    if query.language is not None and query.language not in referral.languages:
        return False
    return query.text is None or _contains(referral, query.text)


def _contains(referral: Referral, text: str) -> bool:
    wanted = text.casefold()
    fields = (referral.organisation, referral.description, referral.region or "")
    return any(wanted in f.casefold() for f in fields)
