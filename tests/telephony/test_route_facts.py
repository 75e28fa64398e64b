"""The IVR's route on the channel (telephony/route_facts.py): its form, and the scrubber reading
it from a QueueCallerJoin's ChanVariable lines, and nothing else there."""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st
from panoramisk.message import Message

from telephony.events import QueueCallerJoin
from telephony.route_facts import MAX_LENGTH, RouteFacts, decode, encode
from telephony.scrub import parse_event
from telephony.variables import ROUTE_FACTS

STARTED = datetime(2026, 12, 8, 1, 2, 3, 456000, tzinfo=UTC)
ROUTED = datetime(2026, 12, 8, 1, 2, 9, 789000, tzinfo=UTC)
FACTS = RouteFacts(
    started_at=STARTED,
    routed_at=ROUTED,
    menu_version="7",
    language="ru",
    path="root>1",
    topic="crisis",
    reason="menu",
    priority=10,
    after_hours=True,
    referral="crisis-team",
    switchboarded_from="loss",
    repeat_count=3,
)


def test_round_trip_and_a_form_msets_can_carry() -> None:
    text = encode(FACTS)
    assert decode(text) == FACTS
    assert not any(c in text for c in ',"\\=\r\n ')
    bare = RouteFacts(started_at=STARTED, routed_at=ROUTED)
    assert decode(encode(bare)) == bare


@given(st.text(max_size=60), st.text(max_size=60), st.integers(0, 100), st.none() | st.integers(1, 99))
def test_any_names_survive(topic: str, path: str, priority: int, count: int | None) -> None:
    facts = RouteFacts(STARTED, ROUTED, topic=topic, path=path, priority=priority, repeat_count=count)
    text = encode(facts)
    assert len(text) <= MAX_LENGTH
    if len(quote(topic)) + len(quote(path)) < 400:
        assert decode(text) == facts


def test_too_long_loses_the_path_then_everything() -> None:
    long_path = RouteFacts(STARTED, ROUTED, topic="crisis", path="1>" * 300)
    assert decode(encode(long_path)) == RouteFacts(STARTED, ROUTED, topic="crisis")
    assert encode(RouteFacts(STARTED, ROUTED, topic="x" * 700)) == ""


@pytest.mark.parametrize(
    "text",
    ["", "t:crisis", "s:1&r:2&zz:3", "s:1&s:2&r:3", "s:abc&r:1", "s:1&r:2&t:a b", "s:1&r:2&q:x", "s" * 700],
)
def test_anything_else_is_refused(text: str) -> None:
    assert decode(text) is None


def _join(*variables: str) -> Message:
    lines = [
        "Event: QueueCallerJoin",
        "Timestamp: 1796691729.789000",
        "Channel: PJSIP/caller-00000001",
        "CallerIDNum: +79000000000",
        "Uniqueid: 1796691723.1",
        "Linkedid: 1796691723.1",
        *(f"ChanVariable: {v}" for v in variables),
        "Queue: crisis",
        "Position: 1",
        "Count: 1",
    ]
    return Message.from_line("\r\n".join(lines) + "\r\n\r\n")


def test_the_join_carries_the_route_and_no_other_variable() -> None:
    raw = _join("SOMETHING=+79000000000", f"{ROUTE_FACTS}={encode(FACTS)}")
    event = parse_event(raw, "ast-a")
    assert isinstance(event, QueueCallerJoin)
    assert event.route == FACTS
    assert "+79000000000" not in repr(event)
    alone = parse_event(_join(f"{ROUTE_FACTS}={encode(FACTS)}"), "ast-a")
    assert isinstance(alone, QueueCallerJoin) and alone.route == FACTS


def test_a_join_without_the_route_or_with_a_forged_one() -> None:
    for variables in ((), (f"{ROUTE_FACTS}=",), (f"{ROUTE_FACTS}=t:+79000000000",)):
        event = parse_event(_join(*variables), "ast-a")
        assert isinstance(event, QueueCallerJoin) and event.route is None
