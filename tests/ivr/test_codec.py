"""IVR documents in and out of YAML: strict about duplicate keys, exact about where errors are."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pytest
import yaml

from ivr.codec import DocumentError, from_data, from_yaml, to_data, to_yaml
from ivr.document import IvrDocument, LanguageAction, RepeatAction, TopicAction
from ivr.issues import Issue
from ivr.validation import validate
from tests.conftest import ROOT

SEED_TEXT = (ROOT / "tests" / "menu.yaml").read_text(encoding="utf-8")

SMALL = """\
languages: [en]
default_language: en
fallback_queue: main
queues:
  - {name: main}
prompts:
  welcome:
    en: {text: Hello.}
menu:
  entry: root
  nodes:
    root:
      prompt: welcome
      options:
        1: {action: operator}
        2: {action: repeat}
"""


def issues_of(text: str) -> list[Issue]:
    with pytest.raises(DocumentError) as caught:
        from_yaml(text)
    assert caught.value.error_id == "ivr_document_invalid"
    return caught.value.issues


def data_issues(data: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(DocumentError) as caught:
        from_data(data)
    return [(i.where, i.problem) for i in caught.value.issues]


@pytest.fixture
def data(document: IvrDocument) -> dict[str, Any]:
    return copy.deepcopy(to_data(document))


# -- round trips ---------------------------------------------------------------------------------
def test_the_seed_is_valid(document: IvrDocument) -> None:
    assert validate(document) == []
    assert document.languages == ["ru", "en"] and document.menu.entry == "language"


def test_yaml_round_trip_gives_the_same_document(document: IvrDocument) -> None:
    text = to_yaml(document)
    assert from_yaml(text) == document
    assert from_yaml(to_yaml(from_yaml(text))) == document
    assert to_yaml(from_yaml(text)) == text


def test_exported_yaml_reads_the_same_with_any_yaml_loader(document: IvrDocument) -> None:
    # Digits, the referral's number and dates are quoted: a plain yaml.safe_load elsewhere
    # (another tool, an administrator's script) gets the same data back.
    text = to_yaml(document)
    assert "'1':" in text and "number: '88001000001'" in text and "- '2026-12-31'" in text
    assert "!!int" not in text
    assert yaml.safe_load(text) == to_data(document)
    assert from_data(yaml.safe_load(text)) == document


def test_loading_ivr_documents_leaves_other_yaml_alone() -> None:
    from_yaml(SEED_TEXT)
    assert yaml.safe_load("port: 8080\nend: 17:30\nflag: no\n") == {"port": 8080, "end": 1050, "flag": False}
    assert yaml.safe_dump({"key": "1"}) == "key: '1'\n"


def test_json_data_round_trip(document: IvrDocument) -> None:
    assert from_data(to_data(document)) == document


# -- what the loader reads as strings ------------------------------------------------------------
def test_unquoted_digit_keys_are_the_same_options_as_quoted_ones() -> None:
    doc = from_yaml(SMALL)
    assert list(doc.menu.nodes["root"].options) == ["1", "2"]
    assert isinstance(doc.menu.nodes["root"].options["2"], RepeatAction)
    assert from_yaml(SMALL.replace("1: {", '"1": {').replace("2: {", "'2': {")) == doc


def test_unquoted_times_stay_times_and_dates_stay_dates(document: IvrDocument) -> None:
    text = SEED_TEXT.replace('mon-fri: ["09:00-20:00"]', "mon-fri: [09:00-20:00]")
    schedule = from_yaml(text).schedule("office-hours")
    assert schedule is not None
    assert [r.text() for r in schedule.weekly["mon"]] == ["09:00-20:00"]
    assert schedule.holidays == [dt.date(2026, 12, 31), dt.date(2027, 1, 1)]
    assert from_yaml(text) == document


def test_numbers_in_text_fields_stay_text() -> None:
    text = SMALL.replace("Hello.", "112")
    assert from_yaml(text).prompts["welcome"]["en"].text == "112"


def test_no_is_the_norwegian_language_not_false() -> None:
    text = SMALL.replace("languages: [en]", "languages: [en, no]").replace(
        "    en: {text: Hello.}", "    en: {text: Hello.}\n    no: {text: Hei.}"
    )
    doc = from_yaml(text)
    assert doc.languages == ["en", "no"]
    assert doc.prompts["welcome"]["no"].text == "Hei."
    assert validate(doc) == []


def test_true_and_false_are_still_booleans() -> None:
    text = SEED_TEXT.replace(
        "    timezone: Europe/Moscow\n", "    timezone: Europe/Moscow\n    always_open: true\n"
    )
    schedule = from_yaml(text).schedule("office-hours")
    assert schedule is not None and schedule.always_open is True


# -- duplicate keys ------------------------------------------------------------------------------
def test_a_digit_twice_in_one_node_is_refused_naming_the_line_and_the_key() -> None:
    text = SMALL.replace("2: {action: repeat}", "1: {action: repeat}")
    issues = issues_of(text)
    assert issues == [Issue("line 16", "key '1' is used twice in one mapping (first on line 15)")]
    assert str(issues[0]) == "line 16: key '1' is used twice in one mapping (first on line 15)"


def test_a_quoted_and_an_unquoted_digit_are_the_same_key() -> None:
    text = SMALL.replace("2: {action: repeat}", '"1": {action: repeat}')
    assert [str(i) for i in issues_of(text)] == [
        "line 16: key '1' is used twice in one mapping (first on line 15)"
    ]


def test_a_duplicate_digit_in_the_seed_is_found_on_its_line() -> None:
    lines = SEED_TEXT.splitlines()
    first = lines.index('        "1": {action: topic, topic: crisis}') + 1
    repeat = lines.index('        "9": {action: repeat}') + 1
    text = SEED_TEXT.replace('"9": {action: repeat}', '"1": {action: repeat}')
    assert issues_of(text) == [
        Issue(f"line {repeat}", f"key '1' is used twice in one mapping (first on line {first})")
    ]


def test_a_duplicate_key_in_a_flow_mapping_is_refused() -> None:
    text = SMALL.replace("  - {name: main}", "  - {name: main, name: crisis}")
    assert [str(i) for i in issues_of(text)] == [
        "line 5: key 'name' is used twice in one mapping (first on line 5)"
    ]


def test_a_duplicate_top_level_section_is_refused() -> None:
    text = SMALL + "fallback_queue: other\n"
    assert [str(i) for i in issues_of(text)] == [
        "line 17: key 'fallback_queue' is used twice in one mapping (first on line 3)"
    ]


# -- structural errors, with where -------------------------------------------------------------
def test_a_bad_action_name_says_where(data: dict[str, Any]) -> None:
    data["menu"]["nodes"]["root"]["options"]["1"] = {"action": "dance"}
    [(where, problem)] = data_issues(data)
    assert where == "menu.nodes.root.options.1"
    assert problem.startswith(
        "Input tag 'dance' found using 'action' does not match any of the expected tags"
    )


def test_a_bad_slug_in_an_action_says_where(data: dict[str, Any]) -> None:
    data["menu"]["nodes"]["violence"]["options"]["2"] = {"action": "topic", "topic": "Other Violence"}
    assert data_issues(data) == [
        ("menu.nodes.violence.options.2.topic.topic", "String should match pattern '^[a-z][a-z0-9_-]{0,39}$'")
    ]


def test_a_bad_topic_id_says_where(data: dict[str, Any]) -> None:
    data["topics"][3]["id"] = "Loss"
    assert data_issues(data) == [("topics.3.id", "String should match pattern '^[a-z][a-z0-9_-]{0,39}$'")]


def test_an_extra_field_says_where(data: dict[str, Any]) -> None:
    data["menu"]["nodes"]["root"]["options"]["1"]["colour"] = "red"
    data["extra"] = 1
    assert data_issues(data) == [
        ("menu.nodes.root.options.1.topic.colour", "Extra inputs are not permitted"),
        ("extra", "Extra inputs are not permitted"),
    ]


def test_a_key_that_is_not_a_digit_says_where(data: dict[str, Any]) -> None:
    data["menu"]["nodes"]["root"]["options"]["A"] = {"action": "repeat"}
    [(where, problem)] = data_issues(data)
    assert where == "menu.nodes.root.options.A.[key]"
    assert problem.startswith("Input should be '0', '1', '2'")


def test_yaml_errors_carry_the_same_paths() -> None:
    text = SEED_TEXT.replace("{action: topic, topic: loss}", "{action: topic, topic: Loss}")
    assert [i.where for i in issues_of(text)] == ["menu.nodes.root.options.3.topic.topic"]


def test_all_problems_are_reported_at_once(data: dict[str, Any]) -> None:
    data["topics"][0]["priority"] = 11
    data["queues"][0]["ring_seconds"] = 1
    del data["menu"]
    assert [where for where, _ in data_issues(data)] == [
        "queues.0.ring_seconds",
        "topics.0.priority",
        "menu",
    ]


def test_an_impossible_date_says_where(data: dict[str, Any]) -> None:
    data["schedules"][0]["holidays"] = ["2026-02-30"]
    [(where, problem)] = data_issues(data)
    assert where == "schedules.0.holidays.0" and "day value is outside expected range" in problem


# -- what is not a document ----------------------------------------------------------------------
@pytest.mark.parametrize("text", ["", "- languages\n- menu\n", "just words\n", "42\n", "null\n"])
def test_a_top_level_that_is_not_a_mapping_is_refused(text: str) -> None:
    assert issues_of(text) == [Issue("document", "the top level must be a mapping")]


def test_broken_yaml_names_line_and_column() -> None:
    assert issues_of("languages: [ru, en\nmenu: {}\n") == [
        Issue("line 2, column 5", "expected ',' or ']', but got ':'")
    ]


def test_an_impossible_unquoted_date_names_its_line() -> None:
    text = SEED_TEXT.replace("holidays: [2026-12-31, 2027-01-01]", "holidays: [2026-02-30]")
    line = SEED_TEXT.splitlines().index("    holidays: [2026-12-31, 2027-01-01]") + 1
    assert [str(i) for i in issues_of(text)] == [
        f"line {line}, column 16: '2026-02-30' is not a valid date: day is out of range for month"
    ]


def test_a_list_as_a_key_is_refused() -> None:
    assert issues_of("? [a, b]\n: 1\n") == [Issue("line 1, column 3", "found unhashable key")]


def test_a_control_character_is_refused() -> None:
    assert issues_of("languages: [ru]\x07\n") == [
        Issue("character 16", "character #x0007 is not allowed: special characters are not allowed")
    ]


def test_python_tags_are_refused() -> None:
    [issue] = issues_of("menu: !!python/object/apply:os.system [echo]\n")
    assert issue.where == "line 1, column 7"
    assert "could not determine a constructor" in issue.problem


def test_the_error_message_lists_every_issue() -> None:
    error = DocumentError([Issue("a", "one"), Issue("b", "two")])
    assert str(error) == "a: one; b: two"


def test_actions_are_typed_by_their_name(document: IvrDocument) -> None:
    options = document.menu.nodes["language"].options
    assert options["2"] == LanguageAction(action="language", language="en", next="root")
    assert document.menu.nodes["root"].options["1"] == TopicAction(action="topic", topic="crisis")
