"""Repeat callers counted without identity: normalised numbers, a rotating in-memory key."""

from __future__ import annotations

import copy
import pickle
from datetime import UTC, datetime, timedelta

import pytest

from privacy.repeat import RepeatCallers, normalise

T0 = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now


def test_spellings_of_one_number_count_as_one_caller() -> None:
    repeat = RepeatCallers(clock=Clock())
    spellings = ["+79000000001", "+7 900 000-00-01", "+7 (900) 000 00 01", "79000000001", " +7.900.000.00.01"]
    counts = [repeat.observe(s, T0 + timedelta(minutes=i)) for i, s in enumerate(spellings)]
    assert counts == [1, 2, 3, 4, 5]
    assert repeat.observe("+79000000002", T0) == 1
    assert len(repeat) == 2


@pytest.mark.parametrize(
    "number", ["", "   ", "anonymous", "Anonymous", "unknown", "restricted", "sip:abc@x", "12", "+7 900 abc"]
)
def test_no_number_no_count(number: str) -> None:
    repeat = RepeatCallers(clock=Clock())
    assert repeat.observe(number, T0) is None
    assert len(repeat) == 0


def test_normalise() -> None:
    assert normalise("+7 900 000-00-01") == "79000000001"
    assert normalise("8 (900) 000-00-01") == "89000000001"
    assert normalise("anonymous") is None
    assert normalise("+") is None


def test_the_raw_number_is_never_kept() -> None:
    repeat = RepeatCallers(clock=Clock())
    repeat.observe("+79000000001", T0)
    held = repr(repeat) + repr(list(repeat._seen)) + repr(list(repeat._seen.values()))
    assert "9000000001" not in held
    assert all(len(h) == 16 for h in repeat._seen)


def test_rotation_forgets_every_hash() -> None:
    clock = Clock()
    repeat = RepeatCallers(period=timedelta(days=7), clock=clock)
    assert repeat.observe("+79000000001", T0) == 1
    assert repeat.observe("+79000000001", T0 + timedelta(days=6, hours=23)) == 2
    # A week after the key was made: a new key, the caller is new again.
    assert repeat.observe("+79000000001", T0 + timedelta(days=7)) == 1
    assert repeat.rotations == 1
    assert len(repeat) == 1


def test_a_quiet_line_rotates_by_the_clock() -> None:
    clock = Clock()
    repeat = RepeatCallers(period=timedelta(hours=1), clock=clock)
    repeat.observe("+79000000001", T0)
    clock.now = T0 + timedelta(minutes=59)
    assert repeat.rotate_if_due() is False and len(repeat) == 1
    clock.now = T0 + timedelta(hours=1)
    assert repeat.rotate_if_due() is True and len(repeat) == 0
    assert repeat.observe("+79000000001", clock.now) == 1


def test_hashes_differ_between_keys() -> None:
    """The same number under the next key is a different hash: nothing links the two."""
    clock = Clock()
    repeat = RepeatCallers(clock=clock)
    repeat.observe("+79000000001", T0)
    before = set(repeat._seen)
    repeat.rotate()
    repeat.observe("+79000000001", T0)
    assert before.isdisjoint(repeat._seen)
    other = RepeatCallers(clock=clock)
    other.observe("+79000000001", T0)
    assert set(other._seen).isdisjoint(repeat._seen)


def test_memory_is_capped_oldest_first() -> None:
    repeat = RepeatCallers(cap=3, clock=Clock())
    for n in range(1, 4):
        repeat.observe(f"+7900000000{n}", T0)
    repeat.observe("+79000000001", T0)  # seen again: now the newest
    repeat.observe("+79000000004", T0)  # drops the oldest: ...02
    assert len(repeat) == 3
    assert repeat.observe("+79000000001", T0) == 3
    assert repeat.observe("+79000000002", T0) == 1


def test_late_call_before_the_key_does_not_rotate() -> None:
    repeat = RepeatCallers(clock=Clock())
    repeat.observe("+79000000001", T0)
    assert repeat.observe("+79000000001", T0 - timedelta(minutes=5)) == 2
    assert repeat.rotations == 0


def test_the_key_cannot_leave_memory_by_pickle_or_copy() -> None:
    repeat = RepeatCallers(clock=Clock())
    with pytest.raises(TypeError):
        pickle.dumps(repeat)
    with pytest.raises(TypeError):
        copy.copy(repeat)
    assert not hasattr(repeat, "__dict__")


def test_bad_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="period"):
        RepeatCallers(period=timedelta(0))
    with pytest.raises(ValueError, match="cap"):
        RepeatCallers(cap=0)
