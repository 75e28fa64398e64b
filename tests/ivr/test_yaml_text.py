"""The admin's YAML text follows the draft's changes and keeps everything else as written."""

from __future__ import annotations

import copy
import re
from typing import Any

from ivr.codec import from_yaml, to_data, to_yaml
from ivr.yaml_text import MAX_ROUND_TRIP_CHARS, updated
from tests.conftest import ROOT

SMALL = """\
# A small line.
languages: [ru, en]   # Russian first
default_language: ru
fallback_queue: main
queues:
  - name: main        # everyone
    service_level_seconds: 20
  - {name: crisis, service_level_seconds: 10}
prompts:
  hello:
    ru: {text: "Привет."}
    en: {text: "Hello."}
menu:
  entry: root
  nodes:
    root:
      prompt: hello
      options:
        1: {action: operator}     # digits unquoted: strings all the same
        "9": {action: repeat}
"""


def _spaced(text: str) -> str:
    return re.sub(" +", " ", text)


def _data(text: str) -> dict[str, Any]:
    return to_data(from_yaml(text))


def _changed(text: str, change: Any) -> str | None:
    old = _data(text)
    new = copy.deepcopy(old)
    change(new)
    return updated(text, old, new)


def test_no_change_gives_the_text_back_byte_for_byte() -> None:
    seed = (ROOT / "hotline-ivr.yaml").read_text(encoding="utf-8")
    assert updated(seed, _data(seed), _data(seed)) == seed
    assert updated(SMALL, _data(SMALL), _data(SMALL)) == SMALL


def test_a_changed_value_is_changed_where_it_stands() -> None:
    text = _changed(SMALL, lambda d: d["queues"][1].update(service_level_seconds=15))
    assert text == SMALL.replace("crisis, service_level_seconds: 10", "crisis, service_level_seconds: 15")


def test_an_unquoted_digit_key_is_found() -> None:
    text = _changed(SMALL, lambda d: d["menu"]["nodes"]["root"]["options"].update({"1": {"action": "back"}}))
    assert text is not None and _spaced(text) == _spaced(
        SMALL.replace("{action: operator}", "{action: back}")
    )


def test_items_added_and_removed_keep_the_comments_around_them() -> None:
    def change(d: dict[str, Any]) -> None:
        d["queues"].insert(1, {"name": "legal", "service_level_seconds": 60})
        del d["prompts"]["hello"]["en"]
        d["languages"].append("pl")

    text = _changed(SMALL, change)
    assert text is not None
    assert "languages: [ru, en, pl] # Russian first" in _spaced(text)  # a comment may move sideways
    assert "  - name: main        # everyone\n" in text and "# A small line." in text
    assert "  - name: legal\n    service_level_seconds: 60\n  - {name: crisis" in text
    assert 'en: {text: "Hello."}' not in text and 'ru: {text: "Привет."}' in text


def test_reordered_items_still_say_the_new_document() -> None:
    text = _changed(SMALL, lambda d: d["queues"].reverse())
    assert text is not None and [q.name for q in from_yaml(text).queues] == ["crisis", "main"]


def test_a_rendered_text_keeps_its_own_indentation() -> None:
    rendered = to_yaml(from_yaml(SMALL))  # PyYAML's: sequences not indented
    text = _changed(rendered, lambda d: d["queues"][0].update(service_level_seconds=25))
    assert text == rendered.replace("service_level_seconds: 20", "service_level_seconds: 25")


def test_a_text_too_long_to_follow_quickly_is_not_followed() -> None:
    padded = SMALL + "#" * MAX_ROUND_TRIP_CHARS + "\n"
    assert updated(padded, _data(padded), _data(padded)) is None
