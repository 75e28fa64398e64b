"""The draft's changes against the live version, from the two documents' data."""

from __future__ import annotations

import copy
from typing import Any

from ivr.codec import to_data
from ivr.diff import Change, changes, unified
from tests.conftest import seed_document


def _seed() -> dict[str, Any]:
    return to_data(seed_document())


def test_the_same_document_has_no_changes() -> None:
    assert changes(_seed(), _seed()) == []
    assert unified("a: 1\n", "a: 1\n", "version 1") == ""


def test_items_added_removed_and_changed_by_section() -> None:
    old, new = _seed(), _seed()
    new["queues"].append({"name": "shelter", "service_level_seconds": 15})
    new["topics"] = [t for t in new["topics"] if t["id"] != "loss"]
    new["topics"][0]["overflow"]["after_seconds"] = 30
    new["menu"]["nodes"]["root"]["options"]["7"] = {"action": "repeat"}
    new["prompts"]["closed"]["en"] = {"text": "Closed."}
    assert changes(old, new) == [
        Change("topics", new["topics"][0]["id"], "changed", ("overflow.after_seconds",)),
        Change("topics", "loss", "removed"),
        Change("queues", "shelter", "added"),
        Change("prompts", "closed", "changed", ("en.text",)),
        Change("nodes", "root", "changed", ("options.7",)),
    ]


def test_settings_are_the_other_top_level_keys_and_the_menus_own() -> None:
    old, new = _seed(), _seed()
    new["default_language"] = "en"
    new["menu"]["entry"] = "root"
    new["summary"]["fields"][0]["required"] = False  # a list of mappings: by index
    del new["emergency"]
    assert changes(old, new) == [
        Change("settings", "default_language", "changed"),
        Change("settings", "summary", "changed", ("fields.0.required",)),
        Change("settings", "menu", "changed", ("entry",)),
        Change("settings", "emergency", "removed"),
    ]


def test_against_nothing_everything_is_added() -> None:
    found = changes({}, _seed())
    assert {c.change for c in found} == {"added"} and ("queues", "main") in {(c.section, c.id) for c in found}


def test_the_unified_diff_names_both_sides() -> None:
    lines = unified("a: 1\nb: 2", "a: 1\nb: 3", "version 4").splitlines()
    assert lines == ["--- version 4", "+++ draft", "@@ -1,2 +1,2 @@", " a: 1", "-b: 2", "+b: 3"]


def test_a_copy_is_not_a_change() -> None:
    assert changes(_seed(), copy.deepcopy(_seed())) == []
