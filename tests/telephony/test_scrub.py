"""Recorded AMI streams replayed through panoramisk's parser into parse_event."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from panoramisk.ami_protocol import AMIProtocol
from panoramisk.message import Message

from telephony.events import (
    AgentCalled,
    AgentComplete,
    AgentConnect,
    AgentRingNoAnswer,
    AmiEvent,
    BaseEvent,
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
)
from telephony.scrub import SUBSCRIBED_EVENTS, live_calls_from, parse_event, snapshot_from
from tests.telephony.ami_peer import fixture_names, read_stream, split_messages

NODE = "ast-a"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Synthetic personal data written into the fixtures; none of it may reach an event.
PERSONAL = ("79000000001", "79000000002", "79000000003", "Ivanova", "Petrov", "CALLERID")
CALLER_1 = ("1732280400.17", "1732280400.17")
CALLER_2 = ("1732280500.31", "1732280500.31")
HANDED = ("1796694719.0", "1796694719.0")  # on node b, a call that began on node a
OP_1 = ("op-1001", "PJSIP/op-1001")
OP_2 = ("op-1002", "PJSIP/op-1002")


def ts(epoch: str) -> datetime:
    return datetime.fromtimestamp(float(epoch), UTC)


def member(cls: Any, at: str, *fields: Any) -> Any:
    return cls(NODE, ts(at), "", "", "support", *fields)


EXPECTED: dict[str, list[AmiEvent | None]] = {
    "queue_call_answered.txt": [
        QueueCallerJoin(NODE, ts("1732280401.512034"), *CALLER_1, "support", 1, 1),
        AgentCalled(NODE, ts("1732280404.100220"), *CALLER_1, "support", "op-1001"),
        QueueCallerLeave(NODE, ts("1732280409.734001"), *CALLER_1, "support", 1, 0),
        AgentConnect(
            NODE, ts("1732280409.734512"), *CALLER_1, "support", "op-1001", 8, 5, "PJSIP/op-1001-00000012"
        ),
        AgentComplete(NODE, ts("1732280731.002117"), *CALLER_1, "support", "op-1001", 8, 321, "caller"),
        Hangup(NODE, ts("1732280731.010442"), *CALLER_1, 16),
        Hangup(NODE, ts("1732280731.020881"), "1732280400.17", "1732280404.19", 16),
    ],
    "queue_call_abandoned.txt": [
        QueueCallerJoin(NODE, ts("1732280501.250000"), *CALLER_2, "support", 2, 2),
        AgentCalled(NODE, ts("1732280503.400100"), *CALLER_2, "support", "op-1002"),
        AgentRingNoAnswer(NODE, ts("1732280518.401377"), *CALLER_2, "support", "op-1002", 15000),
        QueueCallerAbandon(NODE, ts("1732280540.900500"), *CALLER_2, "support", 1, 2, 39),
        QueueCallerLeave(NODE, ts("1732280540.900731"), *CALLER_2, "support", 1, 0),
        Hangup(NODE, ts("1732280540.912000"), *CALLER_2, 16),
    ],
    "queue_members.txt": [
        member(QueueMemberAdded, "1732280300.000101", *OP_1, 1, False, "", False, 0),
        member(QueueMemberPause, "1732280600.221300", *OP_1, 1, True, "break", False, 4, 1732280590),
        member(QueueMemberStatus, "1732280700.500000", *OP_2, 2, False, "", True, 7, 1732280650),
        member(QueueMemberRemoved, "1732280800.000900", *OP_1, 5, False, "", False, 4, 1732280590),
    ],
    "queue_status.txt": [  # the Response is not an event; no Timestamp: `at` checked apart
        QueueParams(NODE, EPOCH, "", "", "support", 0, "rrmemory", 2, 14, 312, 57, 3, 20, 87.7),
        member(QueueMember, "0", *OP_1, 2, False, "", True, 12, 1732280100),
        member(QueueMember, "0", *OP_2, 1, True, "training", False, 9, 1732279900),
        QueueEntry(NODE, EPOCH, *CALLER_1, "support", 1, 9),
        QueueEntry(NODE, EPOCH, *CALLER_2, "support", 2, 4),
        None,
    ],
    "fully_booted.txt": [FullyBooted(NODE, ts("1732280000.000321"), "", "")],
    # Node b of a line (tests/e2e/test_nodes.py): a call overflowed from node a; then a user
    # event of another name, and a handover whose call id is not one (a number): both dropped.
    "node_handover.txt": [
        Handover(NODE, ts("1796694719.980543"), *HANDED, "a", "1796694712.0"),
        QueueCallerJoin(NODE, ts("1796694719.982302"), *HANDED, "support-b", 1, 1),
        None,
        None,
    ],
    "unsubscribed.txt": [None, None, None],
    "core_show_channels.txt": [None, None, None],  # read by live_calls_from only
}


class _Collector:
    save_stream = None

    def __init__(self) -> None:
        self.messages: list[Message] = []

    def dispatch(self, message: Message) -> None:
        self.messages.append(message)


def replay(name: str, chunk: int = 97) -> list[Message]:
    """Feed a recorded stream to panoramisk's AMIProtocol in odd-sized chunks."""
    protocol = AMIProtocol()
    protocol.connection_made(None)
    protocol.factory = collector = _Collector()
    protocol.encoding = "utf8"
    data = read_stream(name).encode()
    for start in range(0, len(data), chunk):
        protocol.data_received(data[start : start + chunk])
    return collector.messages


def parsed(name: str) -> list[AmiEvent | None]:
    return [parse_event(message, NODE) for message in replay(name)]


def all_events() -> list[AmiEvent]:
    return [event for name in fixture_names() for event in parsed(name) if event is not None]


def test_fixtures_are_wire_format_with_crlf() -> None:
    for name in fixture_names():
        raw = (read_stream(name)).encode()
        assert raw.endswith(b"\r\n\r\n"), name
        assert b"\n" not in raw.replace(b"\r\n", b""), name


def test_every_fixture_has_expectations() -> None:
    assert sorted(EXPECTED) == fixture_names()


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_replayed_fixture_gives_typed_events(name: str) -> None:
    events = parsed(name)
    if name == "queue_status.txt":
        now = datetime.now(UTC)
        assert all(abs((e.at - now).total_seconds()) < 5 for e in events if e is not None)
        events = [e if e is None else dataclasses.replace(e, at=EPOCH) for e in events]
    assert events == EXPECTED[name]


def test_every_subscribed_event_is_recorded() -> None:
    # A Handover is the one user event read (AMI names every user event "UserEvent").
    names = {"UserEvent" if isinstance(e, Handover) else type(e).__name__ for e in all_events()}
    assert names == set(SUBSCRIBED_EVENTS)


def test_fixtures_do_carry_the_personal_headers() -> None:
    """Otherwise the scrubbing test below would prove nothing."""
    text = "".join(read_stream(name) for name in fixture_names())
    for header in ("CallerIDNum", "ConnectedLineNum", "DestConnectedLineNum", "Exten"):
        assert f"\r\n{header}: +7900000000" in text or f"\r\n{header}: 7900000000" in text
    assert "Channel: PJSIP/79000000001-" in text
    assert "ChanVariable: CALLERID(num)=+79000000001" in text
    assert "CallerIDNum: 79000000002" in read_stream("queue_status.txt")


def test_no_personal_data_reaches_any_event() -> None:
    messages = split_messages(read_stream("queue_status.txt"))
    snapshot = snapshot_from([Message.from_line(block) for block in messages], NODE)
    for event in [*all_events(), snapshot]:
        text = repr(event)
        assert not [token for token in PERSONAL if token in text], text


def test_snapshot_from_a_queue_status_reply() -> None:
    blocks = split_messages(read_stream("queue_status.txt"))
    snapshot = snapshot_from([Message.from_line(block) for block in blocks], NODE)
    assert snapshot.node == NODE and snapshot.at.tzinfo is UTC
    assert [p.queue for p in snapshot.params] == ["support"]
    assert [m.member for m in snapshot.members] == ["op-1001", "op-1002"]
    assert [(e.call_id, e.position, e.wait_seconds) for e in snapshot.entries] == [
        ("1732280400.17", 1, 9),
        ("1732280500.31", 2, 4),
    ]


def test_live_calls_from_a_core_show_channels_reply_keep_only_call_ids() -> None:
    blocks = split_messages(read_stream("core_show_channels.txt"))
    live = live_calls_from([Message.from_line(block) for block in blocks], NODE, EPOCH)
    assert live == LiveCalls(NODE, EPOCH, frozenset({"1733560001.17", "1733560002.20"}))
    assert "7900000000" not in repr(live)


def test_events_are_frozen_and_slotted() -> None:
    event = all_events()[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.node = "other"  # type: ignore[misc]
    assert not hasattr(event, "__dict__")


def test_plain_mapping_parses_like_a_message() -> None:
    for name in fixture_names():
        for message in replay(name):
            plain = {key.upper(): message[key] for key in message}
            via_plain, via_message = parse_event(plain, NODE), parse_event(message, NODE)
            if via_message is None or name == "queue_status.txt":
                assert (via_plain is None) == (via_message is None)
            else:
                assert via_plain == via_message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"Event": "QueueCallerJoin", "Position": "x1", "Count": ""}, (0, 0)),
        ({"Event": "QueueCallerJoin", "Position": ["3", "4"], "Count": "1e3"}, (3, 0)),
        ({"Event": "QueueCallerJoin", "Position": "99999999999999999999999"}, (10**23 - 1, 0)),
        ({"Event": "QueueCallerJoin", "Position": "9" * 5000, "Count": " 7 "}, (0, 7)),
    ],
)
def test_malformed_numbers_become_defaults(raw: Mapping[str, object], expected: Any) -> None:
    event = parse_event(Message(raw), NODE)
    assert isinstance(event, QueueCallerJoin)
    assert (event.position, event.count) == expected
    assert event.queue == "" and event.call_id == "" and event.at.tzinfo is UTC


def test_malformed_floats_bools_and_timestamps() -> None:
    raw = {"Event": "QueueParams", "ServicelevelPerf": "nan", "Timestamp": "1e300"}
    params = parse_event(Message(raw), NODE)
    assert isinstance(params, QueueParams)
    assert params.service_level_perf == 0.0
    assert abs((params.at - datetime.now(UTC)).total_seconds()) < 5
    raw = {"Event": "QueueMemberPause", "Paused": "maybe", "InCall": "1", "Status": "-"}
    pause = parse_event(Message(raw), NODE)
    assert isinstance(pause, QueueMemberPause)
    assert (pause.paused, pause.in_call, pause.status) == (False, True, 0)


@pytest.mark.parametrize(
    "raw",
    [{}, {"Response": "Success"}, {"Event": "Newchannel"}, {"Event": ["", "x"]}, {"Event": 5}],
)
def test_unknown_or_missing_event_is_none(raw: Mapping[str, object]) -> None:
    assert parse_event(raw, NODE) is None


def test_event_name_and_header_case_do_not_matter() -> None:
    event = parse_event({"event": "hangup", "CAUSE": "17", "linkedid": "L", "UniqueID": "U"}, NODE)
    assert isinstance(event, Hangup)
    assert (event.cause, event.call_id, event.uniqueid) == (17, "L", "U")


HEADER_NAMES = st.sampled_from(
    [
        "Event",
        "Timestamp",
        "Queue",
        "Position",
        "Count",
        "HoldTime",
        "RingTime",
        "TalkTime",
        "MemberName",
        "Name",
        "Interface",
        "Location",
        "Status",
        "Paused",
        "InCall",
        "Linkedid",
        "Uniqueid",
        "Wait",
        "ServicelevelPerf",
        "Cause",
        "CallsTaken",
        "Max",
    ]
)
VALUES = st.one_of(
    st.text(max_size=30),
    st.lists(st.text(max_size=10), max_size=3),
    st.integers(),
    st.floats(),
    st.none(),
    st.binary(max_size=8),
)


@given(
    event=st.one_of(st.sampled_from(sorted(SUBSCRIBED_EVENTS)), st.text(max_size=20)),
    headers=st.dictionaries(st.one_of(HEADER_NAMES, st.text(max_size=12)), VALUES, max_size=12),
)
def test_arbitrary_headers_never_raise(event: str, headers: dict[str, object]) -> None:
    for raw in ({**headers, "Event": event}, headers):
        for mapping in (raw, Message(raw)):
            result = parse_event(mapping, NODE)
            assert result is None or isinstance(result, BaseEvent)
            assert result is None or result.at.tzinfo is UTC
