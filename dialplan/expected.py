"""What the renderer means to write: every value that comes from the IVR document, the settings
or the operators is checked by pattern for the file it lands in, and the templates are rendered
a second time with each such value replaced by a plain token. Read back and with the values put
back, that probe is the structure every rendered file must have (``dialplan.check``)."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping
from typing import Any

from dialplan.check import ConfigCheckError, Item, structure

# Context keys whose values are the project's own constants (variable names, ${...} references
# of its own, module lists): rendered as they are. Everything else is data.
TRUSTED_KEYS = frozenset(
    {
        "modules",
        "stasis_declined",
        "served",
        "escalate",
        "escalate_feature",
        "escalate_digits",
        "escalation_priority",
        "escalation_wait",
        "sip_realm",
        "vars",
        "ref",
        "ivr_ok",
        "ivr_referral",
        "desk",
        "supervise",
        "twilio_names",
    }
)
# Fields the templates compare with literals (validated as Literal in the document).
_LITERAL_FIELDS = frozenset({"when_unstaffed"})
_TOKEN = "hotlinevalue{:05d}x"
_TOKEN_RE = re.compile(r"hotlinevalue[0-9]{5}x")
# Any file: no line breaks or control characters, no comment, no section bracket, no escape.
_PLAIN = re.compile(r"[^\x00-\x1f\x7f;\[\]\\]*")
# The dialplan: also no expression, variable, argument separator, parenthesis or quote.
_DIALPLAN = re.compile(r"[^\x00-\x1f\x7f;\[\]\\$,|(){}\"'`]*")
_RULES: Mapping[str, re.Pattern[str]] = {"extensions.conf": _DIALPLAN, "features.conf": _DIALPLAN}


class _Tokens:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def __call__(self, value: str) -> str:
        token = _TOKEN.format(len(self.values))
        self.values[token] = value
        return token


def _probe(value: Any, tokens: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return tokens(value)
    if isinstance(value, dict):
        return {k: _probe(v, tokens) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_probe(v, tokens) for v in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _probe(getattr(value, f.name), tokens)
            for f in dataclasses.fields(value)
            if f.name not in _LITERAL_FIELDS
        }
        return dataclasses.replace(value, **changes)
    return value  # numbers, booleans, None


def probe_context(values: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The context with every data string replaced by a token, and token -> value."""
    tokens = _Tokens()
    probe = {key: value if key in TRUSTED_KEYS else _probe(value, tokens) for key, value in values.items()}
    return probe, tokens.values


def _placed(line: str, token: str) -> str:
    """The line as rendered, the value at fault shown as <value>, the others as …"""
    return "".join("<value>" if p == token else "…" if _TOKEN_RE.fullmatch(p) else p for p in _split(line))


def _split(line: str) -> list[str]:
    """The line cut around its tokens (kept)."""
    return [p for p in re.split(r"(hotlinevalue[0-9]{5}x)", line.strip()) if p]


def _check_values(name: str, probe_text: str, values: Mapping[str, str]) -> None:
    """The message names the file, the line and the character, never the value (a secret)."""
    rule = _RULES.get(name, _PLAIN)
    for line in probe_text.split("\n"):
        for token in _TOKEN_RE.findall(line):
            bad = next((c for c in values[token] if not rule.fullmatch(c)), None)
            if bad is not None:
                where = _placed(line, token)
                raise ConfigCheckError(f"{name}: refused a value in '{where}': {bad!r} reads as syntax there")


def _put_back(item: Item, values: Mapping[str, str]) -> Item:
    def sub(text: str) -> str:
        return _TOKEN_RE.sub(lambda m: values[m[0]], text)

    return (item[0], sub(item[1]), sub(item[2]))


def expected(probe_files: Mapping[str, str], values: Mapping[str, str]) -> dict[str, list[Item]]:
    """Check every value against the rule of the file it lands in; file -> the items meant."""
    meant: dict[str, list[Item]] = {}
    for name, text in probe_files.items():
        _check_values(name, text, values)
        meant[name] = [_put_back(item, values) for item in structure(text)]
    return meant
