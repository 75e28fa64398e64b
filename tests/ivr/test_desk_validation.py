"""The desk's rules (ivr/desk_validation.py): one test per rule, each asserting the exact messages
an administrator sees; and what the shipped demo line carries for the desk."""

from __future__ import annotations

from typing import Any

import pytest

from ivr.codec import DocumentError, from_data, from_yaml, to_data
from ivr.document import IvrDocument
from ivr.validation import validate
from tests.conftest import ROOT, seed_document
from tests.ivr.test_validation import Data, broken

NAMES = {"ru": "Имя", "en": "Name"}


def topic(d: Data, topic_id: str) -> Data:
    return next(t for t in d["topics"] if t["id"] == topic_id)  # type: ignore[no-any-return]


def guidance(d: Data, topic_id: str = "crisis") -> Data:
    return topic(d, topic_id)["guidance"]  # type: ignore[no-any-return]


def field(d: Data, field_id: str) -> Data:
    return next(f for f in d["summary"]["fields"] if f["id"] == field_id)  # type: ignore[no-any-return]


# -- what the demo line ships --------------------------------------------------------------------
def test_every_shipped_topic_has_an_example_protocol_in_every_language(document: IvrDocument) -> None:
    for t in document.topics:
        assert t.guidance is not None and t.guidance.example, t.id
        assert sorted(t.guidance.texts) == sorted(document.languages), t.id
        for lang, text in t.guidance.texts.items():
            assert text.summary and text.steps and text.escalate_when, (t.id, lang)
        assert t.guidance.referrals and t.guidance.issues, t.id


def test_the_shipped_summary_form_and_emergency_line(document: IvrDocument) -> None:
    assert document.summary is not None and not document.summary.free_text
    kinds = {f.id: f.kind for f in document.summary.fields}
    assert kinds == {
        "call-type": "choice",
        "risk-level": "choice",
        "issues": "issues",
        "outcome": "choice",
        "referral-given": "referral",
        "follow-up": "flag",
        "age-band": "choice",
    }
    assert document.emergency is not None
    assert not document.emergency.number.lstrip("+").startswith("7900000")  # no synthetic caller's
    assert all("(example)" in r.organisation for r in document.referrals[1:])


def test_a_document_without_desk_sections_is_valid() -> None:
    data = to_data(seed_document())
    for t in data["topics"]:
        t.pop("guidance")
    data.pop("summary")
    data.pop("emergency")
    assert validate(from_data(data)) == []


# -- guidance ------------------------------------------------------------------------------------
def test_guidance_needs_a_text_in_every_language() -> None:
    def change(d: Data) -> None:
        del guidance(d)["texts"]["en"]

    assert broken(change) == ["topic crisis, guidance: has no text in en"]


def test_guidance_in_a_language_the_document_does_not_have() -> None:
    def change(d: Data) -> None:
        guidance(d, "loss")["texts"]["uk"] = {"summary": "Втрата"}

    assert broken(change) == ["topic loss, guidance: has a text in 'uk': not a language of the document"]


def test_guidance_escalates_to_a_queue_that_exists() -> None:
    def change(d: Data) -> None:
        guidance(d)["escalate_to"] = "seniors"

    assert broken(change) == ["topic crisis, guidance: escalate_to: queue 'seniors' does not exist"]
    guidance_to_senior = broken(lambda d: guidance(d).update(escalate_to="senior"))
    assert guidance_to_senior == []


def test_guidance_suggests_referrals_that_exist_once_each() -> None:
    def change(d: Data) -> None:
        guidance(d, "violence-home")["referrals"] = ["shelter", "ghost-line", "shelter"]

    assert broken(change) == [
        "topic violence-home, guidance: referral 'ghost-line' does not exist",
        "topic violence-home, guidance: suggests the referral 'shelter' twice",
    ]


def test_a_topics_issues_are_named_in_every_language() -> None:
    def change(d: Data) -> None:
        guidance(d, "addiction")["issues"]["gambling"] = {"en": "Gambling", "de": "Glücksspiel"}

    assert broken(change) == [
        "topic addiction, guidance, issue gambling: has no name in ru",
        "topic addiction, guidance, issue gambling: has a name in 'de': not a language of the document",
    ]


# -- the summary form ----------------------------------------------------------------------------
def test_summary_field_ids_are_unique() -> None:
    def change(d: Data) -> None:
        d["summary"]["fields"].append({"id": "follow-up", "names": NAMES, "kind": "flag"})

    assert broken(change) == ["summary, field follow-up: is defined twice"]


def test_summary_fields_are_named_in_every_language() -> None:
    def change(d: Data) -> None:
        del field(d, "outcome")["names"]["ru"]

    assert broken(change) == ["summary, field outcome: has no name in ru"]


@pytest.mark.parametrize("kind", ["choice", "choices"])
def test_an_enumerated_field_needs_values(kind: str) -> None:
    def change(d: Data) -> None:
        d["summary"]["fields"].append({"id": "mood", "names": NAMES, "kind": kind})

    assert broken(change) == [f"summary, field mood: a '{kind}' field needs values to choose from"]


@pytest.mark.parametrize("kind", ["flag", "issues", "referral"])
def test_other_kinds_take_no_values(kind: str) -> None:
    def change(d: Data) -> None:
        values = {"yes": NAMES}
        d["summary"]["fields"].append({"id": "extra", "names": NAMES, "kind": kind, "values": values})

    assert broken(change) == [
        f"summary, field extra: a '{kind}' field takes no values (only 'choice' and 'choices' do)"
    ]


def test_a_choices_field_with_values_is_valid() -> None:
    def change(d: Data) -> None:
        values = {"family": NAMES, "friends": NAMES}
        d["summary"]["fields"].append({"id": "support", "names": NAMES, "kind": "choices", "values": values})

    assert broken(change) == []


def test_values_are_named_in_every_language() -> None:
    def change(d: Data) -> None:
        field(d, "risk-level")["values"]["high"] = {"ru": "Высокий"}

    assert broken(change) == ["summary, field risk-level, value high: has no name in en"]


def test_a_text_field_only_where_free_text_is_on() -> None:
    text = {"id": "notes", "names": NAMES, "kind": "text"}

    def change(d: Data) -> None:
        d["summary"]["fields"].append(text)

    assert broken(change) == [
        "summary, field notes: a 'text' field needs the form's free_text: true (free text is off)"
    ]

    def turned_on(d: Data) -> None:
        change(d)
        d["summary"]["free_text"] = True

    assert broken(turned_on) == []


def test_a_text_field_takes_no_values_either() -> None:
    def change(d: Data) -> None:
        d["summary"]["free_text"] = True
        d["summary"]["fields"].append({"id": "notes", "names": NAMES, "kind": "text", "values": {"x": NAMES}})

    assert broken(change) == [
        "summary, field notes: a 'text' field takes no values (only 'choice' and 'choices' do)"
    ]


# -- the emergency line and the referrals' languages ---------------------------------------------
def test_the_emergency_line_is_named_in_every_language() -> None:
    def change(d: Data) -> None:
        d["emergency"]["names"] = {"en": "Crisis team", "pl": "Zespół kryzysowy"}

    assert broken(change) == [
        "emergency: has no name in ru",
        "emergency: has a name in 'pl': not a language of the document",
    ]


def test_a_referral_may_speak_a_language_the_menu_does_not() -> None:
    def change(d: Data) -> None:
        d["referrals"][2]["languages"] = ["ru", "uk", "pl"]

    assert broken(change) == []


def test_a_referral_lists_a_language_once() -> None:
    def change(d: Data) -> None:
        d["referrals"][2]["languages"] = ["ru", "en", "ru"]

    assert broken(change) == ["referral shelter: lists the language 'ru' twice"]


@pytest.mark.parametrize("language", ["Russian", "RU", "r", "ru-RU", ""])
def test_a_malformed_referral_language_is_refused_with_its_place(language: str) -> None:
    data: dict[str, Any] = to_data(seed_document())
    data["referrals"][0]["languages"] = ["ru", language]
    with pytest.raises(DocumentError) as info:
        from_data(data)
    assert [i.where for i in info.value.issues] == ["referrals.0.languages.1"]


def test_the_e2e_line_is_valid_and_its_crisis_topic_has_a_protocol() -> None:
    doc = from_yaml((ROOT / "tests" / "e2e" / "ivr.yaml").read_text(encoding="utf-8"))
    crisis = doc.topic("crisis")
    assert validate(doc) == [] and crisis is not None and crisis.guidance is not None
    assert doc.summary is not None and doc.emergency is not None
