"""One test per kind of broken menu; each asserts the exact messages an administrator sees."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from ivr.codec import DocumentError, from_data, from_yaml, to_data
from ivr.document import IvrDocument
from ivr.validation import validate
from tests.conftest import ROOT, seed_document

Data = dict[str, Any]


def broken(change: Callable[[Data], None]) -> list[str]:
    data = to_data(seed_document())
    change(data)
    return [str(issue) for issue in validate(from_data(data))]


def nodes(data: Data) -> Data:
    return data["menu"]["nodes"]  # type: ignore[no-any-return]


def test_the_shipped_menu_is_valid(document: IvrDocument) -> None:
    assert validate(document) == []


def test_unreachable_node() -> None:
    def change(d: Data) -> None:
        nodes(d)["orphan"] = {"prompt": "welcome", "options": {"1": {"action": "operator"}}}

    assert broken(change) == ["node orphan: is not reachable from the entry node 'language'"]


def test_reference_to_a_missing_topic() -> None:
    def change(d: Data) -> None:
        nodes(d)["root"]["options"]["1"] = {"action": "topic", "topic": "ghost"}

    assert broken(change) == ["language > root, option 1: topic 'ghost' does not exist"]


def test_reference_to_a_missing_node() -> None:
    def change(d: Data) -> None:
        nodes(d)["root"]["options"]["2"] = {"action": "submenu", "node": "nowhere"}

    assert broken(change) == [
        "language > root, option 2: node 'nowhere' does not exist",
        "node violence: is not reachable from the entry node 'language'",
    ]


def test_reference_to_a_missing_referral() -> None:
    def change(d: Data) -> None:
        nodes(d)["root"]["options"]["7"] = {"action": "referral", "referral": "ghost-line"}

    assert broken(change) == ["language > root, option 7: referral 'ghost-line' does not exist"]


def test_reference_to_a_missing_queue() -> None:
    def change(d: Data) -> None:
        d["topics"][0]["queue"] = "nowhere"
        nodes(d)["violence"]["options"]["0"] = {"action": "operator", "queue": "seniors"}

    assert broken(change) == [
        "language > root > violence, option 0: queue 'seniors' does not exist",
        "topic crisis: queue 'nowhere' does not exist",
    ]


def test_reference_to_a_missing_prompt() -> None:
    def change(d: Data) -> None:
        nodes(d)["violence"]["prompt"] = "violence-menu"

    assert broken(change) == ["language > root > violence: prompt 'violence-menu' does not exist"]


def test_every_language_complete() -> None:
    def change(d: Data) -> None:
        del d["prompts"]["welcome"]["en"]
        del d["topics"][0]["names"]["en"]

    assert broken(change) == [
        "topic crisis: has no name in en",
        "prompt welcome: has no en version (used at language > root)",
    ]


def test_path_without_any_exit() -> None:
    def change(d: Data) -> None:
        loop = {"action": "submenu", "node": "b"}
        nodes(d)["a"] = {"prompt": "welcome", "options": {"1": loop}, "no_input": loop, "invalid": loop}
        back = {"action": "submenu", "node": "a"}
        nodes(d)["b"] = {"prompt": "welcome", "options": {"1": back}, "no_input": back, "invalid": back}
        nodes(d)["root"]["options"]["8"] = {"action": "submenu", "node": "a"}

    assert broken(change) == [
        "language > root > a: no path from here ends at a queue, a referral or an operator",
        "language > root > a, no-input: leads into a cycle without exit for a silent caller",
        "language > root > a, invalid input: leads into a cycle without exit for a silent caller",
        "language > root > a > b: no path from here ends at a queue, a referral or an operator",
        "language > root > a > b, no-input: leads into a cycle without exit for a silent caller",
        "language > root > a > b, invalid input: leads into a cycle without exit for a silent caller",
    ]


def test_silence_must_not_repeat_forever() -> None:
    def change(d: Data) -> None:
        nodes(d)["root"]["no_input"] = {"action": "repeat"}

    assert broken(change) == ["language > root, no-input: 'repeat' would loop forever; end at an operator"]


def test_back_on_the_entry_node() -> None:
    def change(d: Data) -> None:
        nodes(d)["language"]["options"]["9"] = {"action": "back"}

    assert broken(change) == ["language, option 9: 'back' on the entry node has nowhere to go"]


def test_scheduled_topic_needs_an_after_hours_plan() -> None:
    def change(d: Data) -> None:
        legal = next(t for t in d["topics"] if t["id"] == "legal")
        del legal["after_hours"]
        legal["schedule"] = "weekdays"

    assert broken(change) == [
        "topic legal: schedule 'weekdays' does not exist",
        "topic legal, after hours: a topic with a schedule needs a referral or a 24/7 queue for after hours",
    ]


def test_fallback_queue_must_exist() -> None:
    def change(d: Data) -> None:
        d["fallback_queue"] = "humans"

    assert broken(change) == ["fallback_queue: queue 'humans' does not exist"]


def test_digits_unique_per_node() -> None:
    text = (ROOT / "tests" / "menu.yaml").read_text(encoding="utf-8")
    twice = text.replace(
        '        "3": {action: topic, topic: loss}\n',
        '        "3": {action: topic, topic: loss}\n        "3": {action: topic, topic: crisis}\n',
    )
    line = twice.splitlines().index('        "3": {action: topic, topic: crisis}') + 1
    with pytest.raises(DocumentError) as info:
        from_yaml(twice)
    assert [str(i) for i in info.value.issues] == [
        f"line {line}: key '3' is used twice in one mapping (first on line {line - 1})"
    ]


def test_a_digit_that_is_no_key_is_refused() -> None:
    data = to_data(seed_document())
    nodes(data)["root"]["options"]["A"] = {"action": "operator"}
    with pytest.raises(DocumentError) as info:
        from_data(data)
    assert [i.where for i in info.value.issues] == ["menu.nodes.root.options.A.[key]"]


def test_the_fallback_queue_never_sends_callers_away() -> None:
    def change(d: Data) -> None:
        next(q for q in d["queues"] if q["name"] == "main")["when_unstaffed"] = "fallback"

    assert broken(change) == [
        "queue main: is the fallback queue: when_unstaffed must be 'wait'"
        " (its callers have nowhere else to go)"
    ]


def test_escalation_queue_must_exist() -> None:
    def change(d: Data) -> None:
        d["escalation_queue"] = "seniors"

    assert broken(change) == ["escalation_queue: queue 'seniors' does not exist"]


def test_a_survey_topic_needs_the_survey_section() -> None:
    def change(d: Data) -> None:
        d.pop("survey", None)
        d["topics"][0]["survey"] = True

    surveyed = [t["id"] for t in to_data(seed_document())["topics"] if t.get("survey")]
    topics = sorted(
        {to_data(seed_document())["topics"][0]["id"], *surveyed},
        key=[t["id"] for t in to_data(seed_document())["topics"]].index,
    )
    assert broken(change) == [
        f"topic {t}, survey: the document has no survey section (its prompt)" for t in topics
    ]


def test_survey_and_announcement_prompts_must_exist() -> None:
    def change(d: Data) -> None:
        d["survey"] = {"prompt": "rate-us"}
        d["queues"][0]["announcements"] = {"periodic_prompt": "still-waiting"}

    first = to_data(seed_document())["queues"][0]["name"]
    assert broken(change) == [
        f"queue {first}, announcements: prompt 'still-waiting' does not exist",
        "survey: prompt 'rate-us' does not exist",
    ]
