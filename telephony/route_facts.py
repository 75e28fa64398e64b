"""The IVR's route, carried on the caller's channel so that every service instance knows it.

With two service instances (issue 22), the IVR report of a call reaches only the instance that
walked it over FastAGI, while both follow AMI. So the IVR sets one more channel variable as it
routes the caller, ``HOTLINE_ROUTE`` (:data:`telephony.variables.ROUTE_FACTS`), and manager.conf
names it in ``channelvars``: every queue event of the call then carries it (``ChanVariable``),
and the instance that did not walk the IVR (or survives the one that did) records the call with
its topic, path and priority all the same.

What it holds is the IVR's own vocabulary: never a caller number, nor anything the caller typed
beyond the menu keys already in ``path``. The scrubber (telephony/scrub.py) reads this one
variable, and only when it has this module's form; every other ``ChanVariable`` stays out.

Form: ``key:value`` pairs joined by ``&``, values percent-encoded (``EXEC MSet`` cannot carry
``,`` ``"`` ``\\`` or ``=``, and AMI headers no line breaks), at most :data:`MAX_LENGTH` characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from typing import Final
from urllib.parse import quote, unquote

MAX_LENGTH: Final = 600
_FORM: Final = re.compile(r"[A-Za-z0-9%&:._~-]{1,600}")
_TEXT_LIMIT: Final = 200


@dataclass(frozen=True, slots=True)
class RouteFacts:
    """What the IVR decided for a call, as a record needs it (metrics/records/facts.py)."""

    started_at: datetime  # the IVR's start: the call's start
    routed_at: datetime  # the IVR's end
    menu_version: str = ""
    language: str = ""
    path: str = ""
    topic: str = ""
    reason: str = ""
    priority: int = 0
    after_hours: bool = False
    referral: str = ""
    switchboarded_from: str = ""
    repeat_count: int | None = None


_KEYS: Final = {
    "s": "started_at",
    "r": "routed_at",
    "v": "menu_version",
    "l": "language",
    "p": "path",
    "t": "topic",
    "w": "reason",
    "q": "priority",
    "h": "after_hours",
    "f": "referral",
    "x": "switchboarded_from",
    "n": "repeat_count",
}
_NAMES: Final = {name: key for key, name in _KEYS.items()}
assert set(_NAMES) == {f.name for f in fields(RouteFacts)}


def _out(value: object) -> str:
    if isinstance(value, datetime):
        return f"{value.timestamp():.3f}"
    if isinstance(value, bool):
        return "1" if value else ""
    return quote(str(value), safe="")


def encode(facts: RouteFacts) -> str:
    """The variable's value; pairs left at their default are left out. Never longer than
    :data:`MAX_LENGTH`: a path too long goes first, then everything (an empty value, which
    :func:`decode` refuses: the call is then recorded as a fallback would be)."""
    text = _encode(facts)
    if len(text) > MAX_LENGTH:
        text = _encode(replace(facts, path=""))
    return text if len(text) <= MAX_LENGTH else ""


def _encode(facts: RouteFacts) -> str:
    pairs = []
    for f in fields(RouteFacts):
        value = getattr(facts, f.name)
        if value is None or value == "" or value is False or (f.name == "priority" and value == 0):
            continue
        pairs.append(f"{_NAMES[f.name]}:{_out(value)}")
    return "&".join(pairs)


def _stamp(text: str) -> datetime:
    return datetime.fromtimestamp(float(text), UTC)


def decode(text: str) -> RouteFacts | None:
    """The facts, or None when ``text`` is not of this form (absent, cut, tampered with)."""
    if not _FORM.fullmatch(text):
        return None
    values: dict[str, str] = {}
    for pair in text.split("&"):
        key, sep, value = pair.partition(":")
        if not sep or key not in _KEYS or key in values:
            return None
        values[key] = unquote(value)
    if "s" not in values or "r" not in values or any(len(v) > _TEXT_LIMIT for v in values.values()):
        return None
    count = values.pop("n", None)
    try:
        return RouteFacts(
            started_at=_stamp(values.pop("s")),
            routed_at=_stamp(values.pop("r")),
            priority=int(values.pop("q", "0")),
            after_hours=values.pop("h", "") == "1",
            repeat_count=None if count is None else int(count),
            **{_KEYS[k]: v for k, v in values.items()},
        )
    except (ValueError, OverflowError, OSError):
        return None
