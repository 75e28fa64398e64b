"""Rules across the document for the operator's desk (ivr/desk.py): each topic's guidance, the
after-call summary form, the emergency line and the referrals' languages.

Every text an operator reads is there in every language of the document (and in no other: a
stray ``ua`` beside ``uk`` is a typo, not a translation); every queue and referral a protocol
names exists; a summary field's values are enumerated where its kind needs them and only there.
Places are named the way ivr/validation.py names them (``topic crisis, guidance``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

from ivr.desk import Guidance, SummaryField, SummaryForm
from ivr.document import IvrDocument
from ivr.issues import Issue

ENUMERATED = frozenset({"choice", "choices"})  # the kinds whose values the field itself lists


def check_desk(doc: IvrDocument, queues: set[str], referrals: set[str]) -> Iterable[Issue]:
    """The desk's problems; ``queues`` and ``referrals``: the document's names, as sets."""
    for topic in doc.topics:
        if topic.guidance is not None:
            yield from _check_guidance(doc, f"topic {topic.id}, guidance", topic.guidance, queues, referrals)
    if doc.summary is not None:
        yield from _check_summary(doc, doc.summary)
    if doc.emergency is not None:
        yield from _check_languages(doc, "emergency", doc.emergency.names, "name")
    for referral in doc.referrals:
        for lang in _twice(referral.languages):
            yield Issue(f"referral {referral.id}", f"lists the language '{lang}' twice")


def _check_languages(doc: IvrDocument, where: str, given: Mapping[str, object], what: str) -> Iterable[Issue]:
    """``given`` (texts or names by language) covers every language of the document, no other."""
    missing = [lang for lang in doc.languages if lang not in given]
    if missing:
        yield Issue(where, f"has no {what} in {', '.join(missing)}")
    for lang in given:
        if lang not in doc.languages:
            yield Issue(where, f"has a {what} in '{lang}': not a language of the document")


def _check_guidance(
    doc: IvrDocument, where: str, guidance: Guidance, queues: set[str], referrals: set[str]
) -> Iterable[Issue]:
    yield from _check_languages(doc, where, guidance.texts, "text")
    if guidance.escalate_to is not None and guidance.escalate_to not in queues:
        yield Issue(where, f"escalate_to: queue '{guidance.escalate_to}' does not exist")
    for referral_id in guidance.referrals:
        if referral_id not in referrals:
            yield Issue(where, f"referral '{referral_id}' does not exist")
    for referral_id in _twice(guidance.referrals):
        yield Issue(where, f"suggests the referral '{referral_id}' twice")
    for issue_id, names in guidance.issues.items():
        yield from _check_languages(doc, f"{where}, issue {issue_id}", names, "name")


def _check_summary(doc: IvrDocument, form: SummaryForm) -> Iterable[Issue]:
    for field_id in _twice([f.id for f in form.fields]):
        yield Issue(f"summary, field {field_id}", "is defined twice")
    for field in form.fields:
        yield from _check_field(doc, form, field)


def _check_field(doc: IvrDocument, form: SummaryForm, field: SummaryField) -> Iterable[Issue]:
    where = f"summary, field {field.id}"
    yield from _check_languages(doc, where, field.names, "name")
    if field.kind in ENUMERATED and not field.values:
        yield Issue(where, f"a '{field.kind}' field needs values to choose from")
    if field.kind not in ENUMERATED and field.values:
        yield Issue(where, f"a '{field.kind}' field takes no values (only 'choice' and 'choices' do)")
    if field.kind == "text" and not form.free_text:
        yield Issue(where, "a 'text' field needs the form's free_text: true (free text is off)")
    for value_id, names in field.values.items():
        yield from _check_languages(doc, f"{where}, value {value_id}", names, "name")


def _twice(items: Iterable[str]) -> list[str]:
    return sorted(item for item, times in Counter(items).items() if times > 1)
