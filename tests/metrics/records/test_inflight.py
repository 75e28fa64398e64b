"""Calls in progress survive the process: kept on disk by the assembler, taken back by the next
one, and settled when Asterisk's census no longer has them."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from ivr.engine import Route, RouteKind, RouteReason
from metrics.records.assembler import CallAssembler
from metrics.records.inflight import FILE_NAME, InFlightLog
from metrics.records.record import CallRecord, Outcome
from telephony.events import LiveCalls
from tests.metrics.records.test_assembler import CALL, at, complete, connect, hangup, join

ROUTE = Route(RouteKind.QUEUE, RouteReason.CHOSEN, "en", "1", ("root",), queue="crisis", topic="crisis")


def process(directory: Path) -> tuple[CallAssembler, InFlightLog, list[CallRecord]]:
    """One service process: its assembler, keeping calls in ``directory``."""
    out: list[CallRecord] = []
    log = InFlightLog(directory)
    taken = CallAssembler(out.append, clock=lambda: at(0), keeper=log)
    taken.restore(log.load().calls)
    return taken, log, out


def test_a_call_answered_before_a_restart_and_ended_after_is_one_complete_record(tmp_path: Path) -> None:
    first, log, out = process(tmp_path)
    first.ivr_started(CALL, at(0), "en", "7")
    first.ivr_routed(CALL, at(3), ROUTE)
    first.on_event(join(3.1))
    first.on_event(connect(7))
    assert out == [] and log.open_calls() == 1
    log.close()  # the process ends here, without flushing anything (a kill -9)

    second, log2, out2 = process(tmp_path)
    second.on_event(complete(37))
    second.on_event(hangup(38))
    [record] = out2
    assert (record.outcome, record.complete, record.topic, record.menu_version) == (
        Outcome.ANSWERED,
        True,
        "crisis",
        "7",
    )
    assert (record.wait_seconds, record.talk_seconds, record.started_at) == (4.0, 30.0, at(0))
    assert log2.open_calls() == 0
    assert process(tmp_path)[0].open_calls == 0  # and a third process has nothing left


def test_a_call_that_ended_while_no_process_ran_is_settled_by_the_census(tmp_path: Path) -> None:
    first, log, _ = process(tmp_path)
    first.ivr_started(CALL, at(0), "en", "7")
    first.on_event(join(3))
    other = CALL.__class__("local", "1700000000.9")
    first.ivr_started(other, at(1), "en", "7")
    log.close()

    second, _, out = process(tmp_path)
    assert second.open_calls == 2
    second.on_event(LiveCalls("local", at(60), frozenset({other.call_id})))
    [record] = out
    # It was waiting in a queue when last seen: it left unanswered, when is not known.
    assert (record.call_id, record.complete, record.outcome) == (
        CALL.call_id,
        False,
        Outcome.ABANDONED_IN_QUEUE,
    )
    assert record.ended_at is None
    assert second.open_calls == 1  # the other call is still up in Asterisk: it goes on


def test_a_call_answered_and_ended_while_no_process_ran_is_recorded_answered(tmp_path: Path) -> None:
    """The census's ``answered`` (AstDB notes the dialplan writes as a call is answered) tells
    an answered call from an abandoned one when both ended while nobody listened."""
    first, log, _ = process(tmp_path)
    first.ivr_started(CALL, at(0), "en", "7")
    first.ivr_routed(CALL, at(3), ROUTE)
    first.on_event(join(3.1))
    waiting = CALL.__class__("local", "1700000000.9")
    first.ivr_started(waiting, at(1), "en", "7")
    first.ivr_routed(waiting, at(3), ROUTE)
    log.close()

    # Killed mid-walk: the dialplan took its fallback, a person answered, all while no process ran.
    walking = CALL.__class__("local", "1700000000.11")
    first.ivr_started(walking, at(2), "en", "7")
    log.close()

    second, _, out = process(tmp_path)
    answered = frozenset({CALL.call_id, walking.call_id})
    second.on_event(LiveCalls("local", at(60), frozenset(), answered=answered))
    outcomes = {r.call_id: (r.outcome, r.complete, r.topic, r.fallback) for r in out}
    assert outcomes == {
        CALL.call_id: (Outcome.ANSWERED, False, "crisis", False),
        waiting.call_id: (Outcome.ABANDONED_IN_QUEUE, False, "crisis", False),
        walking.call_id: (Outcome.ANSWERED, False, None, True),  # no route from the IVR: the fallback
    }


def test_the_census_leaves_calls_of_other_nodes_and_calls_seen_after_it(tmp_path: Path) -> None:
    a, _, out = process(tmp_path)
    a.ivr_started(CALL, at(10), "en", "7")
    a.on_event(LiveCalls("other-node", at(20), frozenset()))
    a.on_event(LiveCalls("local", at(5), frozenset()))  # asked before the call was last seen
    assert out == [] and a.open_calls == 1


def test_the_file_is_private_compacted_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    a, log, _ = process(tmp_path)
    for n in range(3):
        a.ivr_started(CALL.__class__("local", f"c{n}"), at(n), "en", "7")
    a.ivr_hangup(CALL.__class__("local", "c0"), at(5), "root")
    log.close()
    path = tmp_path / FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and stat.S_IMODE(tmp_path.stat().st_mode) == 0o700
    with path.open("a") as file:
        file.write('{"open": {"record": {"id": "x", "no')  # a crash in the middle of a line
    loaded = InFlightLog(tmp_path).load()
    assert sorted(s.record.call_id for s in loaded.calls) == ["c1", "c2"] and loaded.skipped == 1
    assert len(path.read_text().splitlines()) == 2  # compacted to the open calls


def test_many_changes_keep_the_file_small(tmp_path: Path) -> None:
    a, log, _ = process(tmp_path)
    for n in range(3000):
        call = CALL.__class__("local", f"c{n}")
        a.ivr_started(call, at(n), "en", "7")
        a.ivr_routed(call, at(n + 1), ROUTE)
        a.ivr_hangup(call, at(n + 2), "root")
    assert log.open_calls() == 0
    assert len((tmp_path / FILE_NAME).read_text().splitlines()) < 4096 + 10


@pytest.mark.skipif(os.geteuid() != 0, reason="a full disk needs a small tmpfs (root)")
def test_a_full_disk_loses_no_call(tmp_path: Path) -> None:
    import subprocess

    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(disk)], check=True)
    try:
        a, log, out = process(disk / "records")
        for n in range(200):  # far more than 16 KiB of state lines
            a.ivr_started(CALL.__class__("local", f"c{n}"), at(n), "en", "7")
        assert a.open_calls == 200  # every call still assembled in memory
        a.ivr_hangup(CALL.__class__("local", "c199"), at(300), "root")
        assert [r.call_id for r in out] == ["c199"]
        log.close()
    finally:
        subprocess.run(["umount", str(disk)], check=True)
