"""A summary form and a document that has it, for the summary tests (the seed's own form is
the line's content, and may change)."""

from __future__ import annotations

from ivr.desk import Guidance, GuidanceText, SummaryField, SummaryForm
from ivr.document import IvrDocument
from tests.conftest import seed_document


def _names(text: str) -> dict[str, str]:
    return {"ru": text, "en": text}


FIELDS = [
    SummaryField(
        id="risk",
        names=_names("Risk"),
        kind="choice",
        values={v: _names(v) for v in ("low", "medium", "high")},
        required=True,
    ),
    SummaryField(
        id="needs",
        names=_names("Needs"),
        kind="choices",
        values={v: _names(v) for v in ("food", "housing", "legal")},
    ),
    SummaryField(id="follow-up", names=_names("Follow-up"), kind="flag"),
    SummaryField(id="issues", names=_names("Issues"), kind="issues"),
    SummaryField(id="referral", names=_names("Referral given"), kind="referral"),
    SummaryField(id="note", names=_names("Note"), kind="text"),
]
CRISIS_ISSUES = {"panic": _names("Panic"), "self-harm": _names("Self-harm")}
LEGAL_ISSUES = {"debts": _names("Debts")}


def form(free_text: bool = True, window_minutes: int = 60, text_max: int = 80) -> SummaryForm:
    return SummaryForm(fields=FIELDS, free_text=free_text, text_max=text_max, window_minutes=window_minutes)


def desk_document(summary: SummaryForm | None = None) -> IvrDocument:
    """The seed with this form (``form()`` by default) and the crisis and legal topics' issues."""
    doc = seed_document()
    issues = {"crisis": CRISIS_ISSUES, "legal": LEGAL_ISSUES}
    topics = []
    for topic in doc.topics:
        if topic.id in issues:
            texts = {lang: GuidanceText(summary=f"{topic.id} protocol") for lang in doc.languages}
            topic = topic.model_copy(update={"guidance": Guidance(texts=texts, issues=issues[topic.id])})
        topics.append(topic)
    return doc.model_copy(update={"topics": topics, "summary": summary or form()})
