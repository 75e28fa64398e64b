"""Raw AMI messages become typed events (telephony/events.py), scrubbed of personal data here.

A raw AMI message (a panoramisk ``Message``: a case-insensitive mapping where a repeated
header is a list of strings) becomes one frozen dataclass holding only non-personal fields.
Each parser reads the headers it names and nothing else: caller numbers and names,
``Dest*`` twins, ``Exten``, channel names, ``ChanVariable`` and every header not listed here
never leave this module.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Final, TypeAlias

from telephony.events import (
    AGENT_CALLED,
    AGENT_COMPLETE,
    AGENT_CONNECT,
    AGENT_RING_NO_ANSWER,
    CORE_SHOW_CHANNEL,
    FULLY_BOOTED,
    HANDOVER,
    HANGUP,
    QUEUE_CALLER_ABANDON,
    QUEUE_CALLER_JOIN,
    QUEUE_CALLER_LEAVE,
    QUEUE_ENTRY,
    QUEUE_MEMBER,
    QUEUE_MEMBER_ADDED,
    QUEUE_MEMBER_PAUSE,
    QUEUE_MEMBER_REMOVED,
    QUEUE_MEMBER_STATUS,
    QUEUE_PARAMS,
    USER_EVENT,
    AgentCalled,
    AgentComplete,
    AgentConnect,
    AgentRingNoAnswer,
    AmiEvent,
    FullyBooted,
    Handover,
    Hangup,
    LiveCalls,
    QueueCallerAbandon,
    QueueCallerJoin,
    QueueCallerLeave,
    QueueEntry,
    QueueMember,
    QueueMemberAdded,
    QueueMemberPause,
    QueueMemberRemoved,
    QueueMemberStatus,
    QueueParams,
    QueueSnapshot,
)
from telephony.route_facts import RouteFacts, decode
from telephony.variables import ROUTE_FACTS

_MemberEvent: TypeAlias = (
    QueueMemberStatus | QueueMemberAdded | QueueMemberRemoved | QueueMemberPause | QueueMember
)
_Get: TypeAlias = Callable[[str], object]
_Parser: TypeAlias = Callable[[_Get, str, datetime], AmiEvent | None]

_TRUE_WORDS: Final = frozenset({"1", "true", "yes", "on"})


# -- value coercion: total functions, a bad value becomes a safe default --------------------


def _text(value: object) -> str:
    if type(value) is str:
        return value
    if type(value) is list and value and type(value[0]) is str:
        return value[0]
    return ""


def _int(value: object) -> int:
    text = _text(value)
    try:
        return int(text)
    except ValueError:
        return 0


def _float(value: object) -> float:
    try:
        number = float(_text(value))
    except ValueError:
        return 0.0
    return number if math.isfinite(number) else 0.0


def _bool(value: object) -> bool:
    return _text(value).strip().lower() in _TRUE_WORDS


def _timestamp(value: object) -> datetime:
    """``Timestamp`` (epoch seconds with decimals, timestampevents=yes), else now."""
    if value is not None:
        try:
            return datetime.fromtimestamp(float(_text(value)), UTC)
        except (ValueError, OverflowError, OSError):
            pass
    return datetime.now(UTC)


def _getter(raw: Mapping[str, object]) -> _Get:
    """A lookup by lower-case header name.

    panoramisk 1.4 keeps ``{lower_key: (key, value)}`` in ``_store``; reading it directly is
    three times faster than ``Mapping.get`` on its case-insensitive dict. Any other mapping
    is lower-cased once.
    """
    store = getattr(raw, "_store", None)
    if type(store) is dict:

        def from_store(key: str) -> object:
            item = store.get(key)
            return item[1] if type(item) is tuple and len(item) == 2 else None

        return from_store
    return {key.lower(): value for key, value in raw.items() if type(key) is str}.get


# -- one small constructor per event ---------------------------------------------------------


def _ids(get: _Get) -> tuple[str, str]:
    return _text(get("linkedid")), _text(get("uniqueid"))


def _caller_join(get: _Get, node: str, at: datetime) -> AmiEvent:
    position, count = _int(get("position")), _int(get("count"))
    route = _route_facts(get("chanvariable"))
    return QueueCallerJoin(node, at, *_ids(get), _text(get("queue")), position, count, route)


_ROUTE_PREFIX: Final = f"{ROUTE_FACTS}="


def _route_facts(value: object) -> RouteFacts | None:
    """The IVR's route among the channel's variables: only that one, only in its own form
    (telephony/route_facts.py); every other ``ChanVariable`` is dropped unread."""
    values = value if type(value) is list else [value]
    for item in values:
        if type(item) is str and item.startswith(_ROUTE_PREFIX):
            return decode(item[len(_ROUTE_PREFIX) :])
    return None


def _caller_leave(get: _Get, node: str, at: datetime) -> AmiEvent:
    position, count = _int(get("position")), _int(get("count"))
    return QueueCallerLeave(node, at, *_ids(get), _text(get("queue")), position, count)


def _caller_abandon(get: _Get, node: str, at: datetime) -> AmiEvent:
    position, original = _int(get("position")), _int(get("originalposition"))
    hold = _int(get("holdtime"))
    return QueueCallerAbandon(node, at, *_ids(get), _text(get("queue")), position, original, hold)


def _agent_called(get: _Get, node: str, at: datetime) -> AmiEvent:
    return AgentCalled(node, at, *_ids(get), _text(get("queue")), _text(get("membername")))


def _agent_ring_no_answer(get: _Get, node: str, at: datetime) -> AmiEvent:
    queue, member = _text(get("queue")), _text(get("membername"))
    return AgentRingNoAnswer(node, at, *_ids(get), queue, member, _int(get("ringtime")))


def _agent_connect(get: _Get, node: str, at: datetime) -> AmiEvent:
    queue, member = _text(get("queue")), _text(get("membername"))
    hold, ring = _int(get("holdtime")), _int(get("ringtime"))
    return AgentConnect(node, at, *_ids(get), queue, member, hold, ring, _text(get("destchannel")))


def _agent_complete(get: _Get, node: str, at: datetime) -> AmiEvent:
    queue, member = _text(get("queue")), _text(get("membername"))
    hold, talk = _int(get("holdtime")), _int(get("talktime"))
    return AgentComplete(node, at, *_ids(get), queue, member, hold, talk, _text(get("reason")))


def _member_args(get: _Get) -> tuple[str, str, str, int, bool, str, bool, int, int]:
    """Member fields; QueueStatus's QueueMember says Name/Location for MemberName/Interface."""
    member = get("membername")
    interface = get("interface")
    return (
        _text(get("queue")),
        _text(get("name") if member is None else member),
        _text(get("location") if interface is None else interface),
        _int(get("status")),
        _bool(get("paused")),
        _text(get("pausedreason")),
        _bool(get("incall")),
        _int(get("callstaken")),
        _int(get("lastcall")),
    )


def _member_parser(cls: type[_MemberEvent]) -> _Parser:
    def parse(get: _Get, node: str, at: datetime) -> AmiEvent:
        linkedid, uniqueid = _ids(get)
        return cls(node, at, linkedid, uniqueid, *_member_args(get))

    return parse


def _queue_params(get: _Get, node: str, at: datetime) -> AmiEvent:
    counts = (_int(get("calls")), _int(get("holdtime")), _int(get("talktime")))
    totals = (_int(get("completed")), _int(get("abandoned")), _int(get("servicelevel")))
    head = (_text(get("queue")), _int(get("max")), _text(get("strategy")))
    return QueueParams(node, at, "", "", *head, *counts, *totals, _float(get("servicelevelperf")))


def _queue_entry(get: _Get, node: str, at: datetime) -> AmiEvent:
    linkedid, uniqueid = _ids(get)
    position, wait = _int(get("position")), _int(get("wait"))
    return QueueEntry(node, at, linkedid or uniqueid, uniqueid, _text(get("queue")), position, wait)


def _fully_booted(get: _Get, node: str, at: datetime) -> AmiEvent:
    return FullyBooted(node, at, "", "")


def _hangup(get: _Get, node: str, at: datetime) -> AmiEvent:
    return Hangup(node, at, *_ids(get), _int(get("cause")))


_NODE_NAME: Final = re.compile(r"[a-z][a-z0-9_-]{0,39}")


def _user_event(get: _Get, node: str, at: datetime) -> AmiEvent | None:
    """The dialplan's HotlineHandover (a call from another node: dialplan/render_nodes.py) with
    the node and call it came from, both checked for their form; any other user event: None."""
    if _text(get("userevent")) != HANDOVER:
        return None
    from_node, from_call = _text(get("fromnode")), _text(get("fromcall"))
    if not (_NODE_NAME.fullmatch(from_node) and _CALL_ID.fullmatch(from_call)):
        return None
    return Handover(node, at, *_ids(get), from_node, from_call)


_PARSERS: Final[dict[str, _Parser]] = {
    QUEUE_CALLER_JOIN: _caller_join,
    QUEUE_CALLER_LEAVE: _caller_leave,
    QUEUE_CALLER_ABANDON: _caller_abandon,
    AGENT_CALLED: _agent_called,
    AGENT_RING_NO_ANSWER: _agent_ring_no_answer,
    AGENT_CONNECT: _agent_connect,
    AGENT_COMPLETE: _agent_complete,
    QUEUE_MEMBER_STATUS: _member_parser(QueueMemberStatus),
    QUEUE_MEMBER_ADDED: _member_parser(QueueMemberAdded),
    QUEUE_MEMBER_REMOVED: _member_parser(QueueMemberRemoved),
    QUEUE_MEMBER_PAUSE: _member_parser(QueueMemberPause),
    QUEUE_PARAMS: _queue_params,
    QUEUE_MEMBER: _member_parser(QueueMember),
    QUEUE_ENTRY: _queue_entry,
    FULLY_BOOTED: _fully_booted,
    HANGUP: _hangup,
    USER_EVENT: _user_event,
}
_BY_LOWER_NAME: Final = {name.lower(): parser for name, parser in _PARSERS.items()}

SUBSCRIBED_EVENTS: Final[frozenset[str]] = frozenset(_PARSERS)
"""AMI event names :func:`parse_event` understands (manager.conf eventfilter source)."""


def snapshot_from(raws: Iterable[Mapping[str, object]], node: str) -> QueueSnapshot:
    """A QueueStatus reply (its Response, events and QueueStatusComplete) as one snapshot."""
    events = [parse_event(raw, node) for raw in raws]
    return QueueSnapshot(
        node,
        datetime.now(UTC),
        tuple(event for event in events if isinstance(event, QueueParams)),
        tuple(event for event in events if isinstance(event, QueueMember)),
        tuple(event for event in events if isinstance(event, QueueEntry)),
    )


_CORE_SHOW_CHANNEL: Final = CORE_SHOW_CHANNEL.lower()
_DB_TREE_ENTRY: Final = "dbgettreeresponse"
_CALL_ID: Final = re.compile(r"[0-9]{1,20}\.[0-9]{1,10}")  # a Linkedid: epoch.sequence


def live_calls_from(raws: Iterable[Mapping[str, object]], node: str, at: datetime) -> LiveCalls:
    """A CoreShowChannels reply as the set of call ids (Linkedid) with a channel up. Each
    CoreShowChannel also names the channel, caller number and dialled extension: only the
    Linkedid is read."""
    ids = set()
    for raw in raws:
        get = _getter(raw)
        if _text(get("event")).lower() == _CORE_SHOW_CHANNEL and (call_id := _text(get("linkedid"))):
            ids.add(call_id)
    return LiveCalls(node, at, frozenset(ids))


def answered_from(raws: Iterable[Mapping[str, object]], family: str) -> frozenset[str]:
    """A DBGetTree reply for ``family`` as the call ids it holds (keys ``/family/<call id>``);
    a key that is not a call id is skipped."""
    prefix, ids = f"/{family}/", set()
    for raw in raws:
        get = _getter(raw)
        key = _text(get("key"))
        if _text(get("event")).lower() == _DB_TREE_ENTRY and key.startswith(prefix):
            call_id = key[len(prefix) :]
            if _CALL_ID.fullmatch(call_id):
                ids.add(call_id)
    return frozenset(ids)


def parse_event(raw: Mapping[str, object], node: str) -> AmiEvent | None:
    """Turn one raw AMI message into a scrubbed event; None if unnamed or not subscribed.

    Never raises for bad input: a malformed number becomes 0, a missing text field ''.
    """
    get = _getter(raw)
    name = get("event")
    if type(name) is not str:
        return None
    parser = _PARSERS.get(name) or _BY_LOWER_NAME.get(name.lower())
    if parser is None:
        return None
    return parser(get, node, _timestamp(get("timestamp")))
