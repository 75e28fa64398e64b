"""What the draft changes against the live version, for the editor's review before publishing
(issue 19): item by item, computed from the two documents' data (never from their text), and
the two YAML texts as a unified diff beside it.

Items are those the editor edits one at a time (``PUT /api/ivr/draft/{section}/{item_id}``):
topics, schedules, referrals and queues by id (a queue by name), prompts and menu nodes by key;
every other top-level key is a setting (section "settings"; the menu's own keys, its entry,
under "menu"). A changed item names its changed fields as dotted paths inside it.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Any, Final

LISTED: Final = {"topics": "id", "schedules": "id", "referrals": "id", "queues": "name"}
SECTIONS: Final = ("settings", *LISTED, "prompts", "nodes")
_ABSENT: Final = object()


@dataclass(frozen=True)
class Change:
    section: str
    id: str
    change: str  # added, removed or changed
    fields: tuple[str, ...] = ()  # a changed item's: dotted paths inside it (none: a bare value)


def changes(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every item of ``new`` (a document's data, as ``to_data`` gives it) that ``old`` lacks,
    has otherwise, or has and ``new`` lacks; by section, then in ``new``'s order."""
    before, after = _items(old), _items(new)
    found: list[Change] = []
    for section in SECTIONS:
        was, now = before[section], after[section]
        for item in [*now, *(i for i in was if i not in now)]:
            if item not in was:
                found.append(Change(section, item, "added"))
            elif item not in now:
                found.append(Change(section, item, "removed"))
            elif was[item] != now[item]:
                found.append(Change(section, item, "changed", tuple(_fields(was[item], now[item], ()))))
    return found


def unified(old_text: str, new_text: str, old_name: str, new_name: str = "draft") -> str:
    lines = difflib.unified_diff(
        old_text.splitlines(keepends=True), new_text.splitlines(keepends=True), old_name, new_name
    )
    return "".join(line if line.endswith("\n") else f"{line}\n" for line in lines)


def _items(data: dict[str, Any]) -> dict[str, dict[str, Any]]:
    items = {section: {i[key]: i for i in data.get(section, [])} for section, key in LISTED.items()}
    menu = data.get("menu", {})
    items["prompts"] = dict(data.get("prompts", {}))
    items["nodes"] = dict(menu.get("nodes", {}))
    settings = {k: v for k, v in data.items() if k not in LISTED and k not in ("prompts", "menu")}
    if rest := {k: v for k, v in menu.items() if k != "nodes"}:
        settings["menu"] = rest
    items["settings"] = settings
    return items


def _fields(old: Any, new: Any, path: tuple[str, ...]) -> list[str]:
    """The dotted paths (below ``path``) where ``old`` and ``new`` differ: into mappings, and
    into lists of mappings of one length (by index); other values and lists as a whole."""
    if old == new:
        return []
    if isinstance(old, dict) and isinstance(new, dict):
        keys = [*old, *(k for k in new if k not in old)]
        return [f for k in keys for f in _fields(old.get(k, _ABSENT), new.get(k, _ABSENT), (*path, str(k)))]
    if _same_length(old, new) and any(isinstance(i, dict) for i in (*old, *new)):
        return [
            f for n, (o, i) in enumerate(zip(old, new, strict=True)) for f in _fields(o, i, (*path, str(n)))
        ]
    return [".".join(path)] if path else []


def _same_length(old: Any, new: Any) -> bool:
    return isinstance(old, list) and isinstance(new, list) and len(old) == len(new)
