"""IVR documents in and out of YAML/JSON, with errors that say where.

PyYAML silently keeps the last of two equal keys; a menu with digit "1" twice would lose an
option without a word. The loader here refuses duplicate keys and names their line.

Bounds, checked before the document is built: at most ``MAX_DOCUMENT_BYTES``, nesting at most
``MAX_DEPTH`` deep, no anchors or aliases. PyYAML's composer recurses once per level (a
document nested 50,000 deep exhausts the stack) and aliases let a small text expand without
limit once it is walked; the depth is measured on the parser's event stream, which is flat.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import yaml
from pydantic import ValidationError

from core.errors import DomainError
from ivr.document import IvrDocument
from ivr.issues import Issue, issue_details


class DocumentError(DomainError, ValueError):
    """The document cannot be read; ``issues`` say where and why."""

    error_id = "ivr_document_invalid"
    status = 422

    def __init__(self, issues: list[Issue]) -> None:
        super().__init__("; ".join(str(i) for i in issues), issue_details(issues))
        self.issues = issues


MAX_DOCUMENT_BYTES = 2 * 1024 * 1024  # a menu of 2,000 nodes, topics and queues is 1.3 MB
MAX_DEPTH = 32  # the document itself is 7 deep


def check_size(size: int) -> None:
    """Refuse a document of ``size`` bytes (or characters) over the bound."""
    if size > MAX_DOCUMENT_BYTES:
        problem = f"{size} bytes; at most {MAX_DOCUMENT_BYTES} ({MAX_DOCUMENT_BYTES // 1024 // 1024} MB)"
        raise DocumentError([Issue("document", problem)])


def _line(event: yaml.Event) -> str:
    mark = event.start_mark
    return f"line {mark.line + 1}" if mark is not None else "document"


def _check_shape(text: str) -> None:
    """Depth and aliases, from the parser's events (no recursion, no document built)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise DocumentError([Issue(_line(event), "anchors and aliases (& and *) are not accepted")])
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise DocumentError([Issue(_line(event), f"nested deeper than {MAX_DEPTH} levels")])
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1


class _StrictLoader(yaml.SafeLoader):
    pass


def _mapping(loader: _StrictLoader, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
    seen: dict[Any, int] = {}
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if not isinstance(key, Hashable):
            break  # construct_mapping refuses it with its line
        if key in seen:
            raise DocumentError(
                [
                    Issue(
                        f"line {key_node.start_mark.line + 1}",
                        f"key {key!r} is used twice in one mapping (first on line {seen[key]})",
                    )
                ]
            )
        seen[key] = key_node.start_mark.line + 1
    return loader.construct_mapping(node, deep=deep)


def _timestamp(loader: _StrictLoader, node: yaml.ScalarNode) -> Any:
    """A date such as 2026-02-30 is refused with its line, not with a bare ValueError."""
    try:
        return loader.construct_yaml_timestamp(node)
    except ValueError as exc:
        problem = f"{node.value!r} is not a valid date: {exc}"
        raise yaml.constructor.ConstructorError(None, None, problem, node.start_mark) from exc


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_StrictLoader.add_constructor("tag:yaml.org,2002:timestamp", _timestamp)
# Digits and times stay strings: "1" and 1 are the same option, "09:00" is not 540 minutes.
# Only true/false are booleans (YAML 1.2): "no" is Norwegian, not False.
# The table is PyYAML's shared one until a loader has its own: change a copy, or every
# yaml.safe_load (and safe_dump's quoting) in the process would change with it.
_INT, _BOOL = "tag:yaml.org,2002:int", "tag:yaml.org,2002:bool"
_YAML12_BOOL = re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$")
_StrictLoader.yaml_implicit_resolvers = {
    first: [
        (tag, regexp)
        for tag, regexp in resolvers
        if not (tag == _INT and first in "0123456789") and tag != _BOOL
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_StrictLoader.add_implicit_resolver(_BOOL, _YAML12_BOOL, list("tTfF"))


def _loc(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "document"


def from_data(data: Any) -> IvrDocument:
    try:
        return IvrDocument.model_validate(data)
    except ValidationError as exc:
        raise DocumentError([Issue(_loc(e["loc"]), e["msg"]) for e in exc.errors()]) from exc


def from_yaml(text: str) -> IvrDocument:
    """The document in ``text``; CPU-bound for a large one: call it off the event loop."""
    check_size(len(text))
    try:
        _check_shape(text)
        data = yaml.load(text, Loader=_StrictLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "document"
        raise DocumentError([Issue(where, str(exc.problem))]) from exc
    except yaml.reader.ReaderError as exc:
        char = f"#x{exc.character:04x}" if isinstance(exc.character, int) else repr(exc.character)
        problem = f"character {char} is not allowed: {exc.reason}"
        raise DocumentError([Issue(f"character {exc.position + 1}", problem)]) from exc
    except yaml.YAMLError as exc:
        raise DocumentError([Issue("document", " ".join(str(exc).split()))]) from exc
    if not isinstance(data, dict):
        raise DocumentError([Issue("document", "the top level must be a mapping")])
    return from_data(data)


def to_data(doc: IvrDocument) -> dict[str, Any]:
    return doc.model_dump(mode="json", exclude_none=True)


def to_yaml(doc: IvrDocument) -> str:
    return yaml.safe_dump(to_data(doc), allow_unicode=True, sort_keys=False, width=100)


def json_schema() -> dict[str, Any]:
    """The document's JSON schema with every reference resolved in place (the models nest but
    never recurse), for the OpenAPI description of the draft's body; discriminators keep their
    property name, not their mapping (references too)."""
    schema = IvrDocument.model_json_schema()
    defs: dict[str, Any] = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, list):
            return [inline(v) for v in node]
        if not isinstance(node, dict):
            return node
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/$defs/"):
            rest = {k: v for k, v in node.items() if k != "$ref"}
            return inline({**defs[ref.removeprefix("#/$defs/")], **rest})
        out = {k: inline(v) for k, v in node.items()}
        if isinstance(node.get("discriminator"), dict):
            out["discriminator"] = {"propertyName": node["discriminator"]["propertyName"]}
        return out

    return inline(schema)  # type: ignore[no-any-return]
