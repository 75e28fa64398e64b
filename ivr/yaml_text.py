"""The administrator's YAML text of the draft, kept beside the document: its comments, order,
quoting and flow style survive when the draft is then edited item by item (issue 19).

:func:`updated` changes the kept text only where the new document differs from the old one,
through ruamel.yaml's round-trip loader (which carries comments); everything else stays as
written. The result is read back with the strict loader of ``ivr/codec.py``: a text that would
not say the same document is never kept (None: the caller renders the document instead).
CPU-bound, about a second per 40 kB (a third of a second for the seed): call it off the event
loop. A text over ``MAX_ROUND_TRIP_CHARS`` is not followed (an edit would take many seconds,
holding the draft's lock): such a draft's YAML view is rendered once it is edited item by item.
"""

from __future__ import annotations

import io
import re
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from ivr.codec import DocumentError, from_data, from_yaml, to_data

MAX_ROUND_TRIP_CHARS = 256 * 1024  # 7 times the seed; a 1.3 MB one took 30 s
IDENTITY_KEYS = ("id", "name")  # how an item of a list section is named (topics, queues, ...)
_BLOCK_KEY = re.compile(r"^(- )?[^#'\"{\[]*:\s*(#.*)?$")  # "key:" opening a block, maybe "- key:"
_UNREADABLE = (YAMLError, ValueError, TypeError, KeyError, IndexError, AttributeError)


def updated(text: str, old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """``text`` (which says the document ``old``, as :func:`to_data` gives it) changed where
    ``new`` differs; None when that cannot be done faithfully, or ``text`` is too long. What
    ``new`` adds is written as given (an item as the admin sent it: no defaults spelled out)."""
    if len(text) > MAX_ROUND_TRIP_CHARS:
        return None
    yaml = _round_trip(text)
    try:
        tree = yaml.load(text)
        if not isinstance(tree, CommentedMap):
            return None
        _merge_map(tree, old, new)
        out = io.StringIO()
        yaml.dump(tree, out)
    except _UNREADABLE:
        return None
    result = out.getvalue()
    try:
        return result if to_data(from_yaml(result)) == to_data(from_data(new)) else None
    except DocumentError:
        return None


def _round_trip(text: str) -> YAML:
    yaml = YAML()  # round-trip: comments, key order, flow style
    yaml.preserve_quotes = True
    yaml.width = 4096  # long lines stay long: no folding of what was written on one line
    mapping, offset = _indents(text)
    yaml.indent(mapping=mapping, sequence=offset + 2, offset=offset)
    return yaml


def _indents(text: str) -> tuple[int, int]:
    """The mapping indent and the dash's offset in block sequences, as ``text`` writes them
    (ruamel.yaml does not find them itself); (2, 0), PyYAML's, when it shows none."""
    mapping: int | None = None
    offset: int | None = None
    parent: int | None = None  # the column of the last "key:" opening a block
    for line in text.splitlines():
        body = line.lstrip(" ")
        if not body or body.startswith("#"):
            continue
        column = len(line) - len(body)
        if parent is not None and column >= parent:
            if body.startswith("- ") and offset is None:
                offset = column - parent
            elif not body.startswith("- ") and column > parent and mapping is None:
                mapping = column - parent
        opens = _BLOCK_KEY.match(body)
        parent = (column + (2 if opens.group(1) else 0)) if opens else None
    return mapping or 2, offset or 0


def _key(tree: CommentedMap, key: str) -> Any:
    """The tree's own key for ``key``: itself, or one that reads the same (``1:`` for "1")."""
    if key in tree:
        return key
    return next((k for k in tree if str(k) == key), None)


def _merged(node: Any, old: Any, new: Any) -> Any:
    """``node`` (which says ``old``) made to say ``new``, kept where it can be."""
    if isinstance(node, CommentedMap) and isinstance(old, dict) and isinstance(new, dict):
        _merge_map(node, old, new)
        return node
    if isinstance(node, CommentedSeq) and isinstance(old, list) and isinstance(new, list):
        _merge_seq(node, old, new)
        return node
    return new


def _merge_map(tree: CommentedMap, old: dict[str, Any], new: dict[str, Any]) -> None:
    for gone in [k for k in old if k not in new]:
        if (at := _key(tree, gone)) is not None:
            del tree[at]
    for key, value in new.items():
        if key in old and old[key] == value:
            continue  # unchanged: as written (a default the text leaves out stays left out)
        at = _key(tree, key)
        if at is None:
            tree[key] = value
        else:
            tree[at] = _merged(tree[at], old.get(key), value)


def _identity(old: list[Any], new: list[Any]) -> str | None:
    """The key naming each item when both lists are lists of named items."""
    items = old + new
    for key in IDENTITY_KEYS:
        if items and all(isinstance(i, dict) and isinstance(i.get(key), str) for i in items):
            return key
    return None


def _merge_seq(tree: CommentedSeq, old: list[Any], new: list[Any]) -> None:
    key = _identity(old, new)
    if key is not None and len(tree) == len(old):
        kept = {n[key] for n in new}
        for index in reversed([i for i, o in enumerate(old) if o[key] not in kept]):
            del tree[index]
        before = {o[key]: o for o in old if o[key] in kept}
        if list(before) == [n[key] for n in new if n[key] in before]:  # the same order: by name
            for index, item in enumerate(new):
                if item[key] in before:
                    tree[index] = _merged(tree[index], before[item[key]], item)
                else:
                    tree.insert(index, item)
            return
        old = [before[o] for o in before]  # reordered: by position among what is left
    for index, item in enumerate(new[: len(tree)]):
        if index >= len(old) or old[index] != item:
            tree[index] = _merged(tree[index], old[index] if index < len(old) else None, item)
    del tree[len(new) :]
    tree.extend(new[len(tree) :])
