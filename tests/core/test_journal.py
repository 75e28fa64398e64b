"""The journal on a real file system: segments, permissions, recovery, corrupt lines, and a
disk that fills up or turns read-only (a small tmpfs, mounted as root)."""

from __future__ import annotations

import json
import logging
import os
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.journal import REJECTED, Journal


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def segments(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("journal-"))


def lines(path: Path) -> list[Any]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def entry(i: int, size: int = 40) -> dict[str, Any]:
    return {"id": i, "pad": "x" * size}


def test_entries_are_lines_of_a_0600_segment_in_a_0700_folder(tmp_path: Path) -> None:
    folder = tmp_path / "var" / "records"
    folder.mkdir(parents=True, mode=0o755)
    old = os.umask(0)
    try:
        journal = Journal(folder)
        assert journal.append(entry(1)) and journal.append(entry(2))
    finally:
        os.umask(old)
    [name] = segments(folder)
    assert (mode(folder), mode(folder / name)) == (0o700, 0o600)
    assert lines(folder / name) == [entry(1), entry(2)]


def test_a_seal_starts_the_next_segment_and_a_commit_removes_the_sealed_one(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    journal.append(entry(1))
    [first] = journal.seal()
    assert first.fd == -1 and not first.synced  # sealed: no descriptor held while it waits
    journal.append(entry(2))
    assert segments(tmp_path) == ["journal-000000001.jsonl", "journal-000000002.jsonl"]
    journal.sync([first])
    assert first.synced  # a second sync costs nothing
    journal.commit(first)
    assert segments(tmp_path) == ["journal-000000002.jsonl"]
    assert journal.seal()[0].path.name == "journal-000000002.jsonl"
    assert journal.seal() == []


def test_a_new_process_recovers_the_earlier_segments_in_order_and_numbers_on(tmp_path: Path) -> None:
    earlier = Journal(tmp_path)
    for i in range(1, 4):
        earlier.append(entry(i))
        if i != 2:
            earlier.seal()
    journal = Journal(tmp_path)
    journal.append(entry(9))  # this process's own segment is not recovered
    found = list(journal.recovered(lambda line: line["id"]))
    assert [f.entries for f in found] == [[1], [2, 3]]
    assert [f.segment.path.name for f in found] == ["journal-000000001.jsonl", "journal-000000002.jsonl"]
    assert journal.seal()[0].path.name == "journal-000000003.jsonl"
    for f in found:
        journal.commit(f.segment)
    assert segments(tmp_path) == ["journal-000000003.jsonl"]
    assert list(journal.recovered(lambda line: line)) == []  # once per process


def test_a_corrupt_line_is_reported_by_file_and_line_and_kept_and_the_rest_recovered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "journal-000000007.jsonl"
    path.write_bytes(b'{"id": 1}\n{"id": 2, "pad"\n{"id": 3}\n{"oops": 4}\n{"id": 5}')  # the last cut short
    journal = Journal(tmp_path)
    with caplog.at_level(logging.ERROR):
        [found] = journal.recovered(lambda line: line["id"])
    assert found.entries == [1, 3]
    assert found.segment.bad_lines == 3 and journal.errors == 3
    reported = [r.getMessage() for r in caplog.records]
    assert all(f"{path} line {n} cannot be read" in m for m, n in zip(reported, (2, 4, 5), strict=True))
    assert all("oops" not in m and "pad" not in m for m in reported)  # never the content
    journal.commit(found.segment)
    assert segments(tmp_path) == ["journal-000000007.jsonl.corrupt"]
    assert (tmp_path / "journal-000000007.jsonl.corrupt").read_bytes().count(b"\n") == 4
    assert Journal(tmp_path).seal() == [] and list(Journal(tmp_path).recovered(lambda x: x)) == []
    fresh = Journal(tmp_path)
    fresh.append(entry(1))
    assert fresh.seal()[0].path.name == "journal-000000008.jsonl"  # after the corrupt one's number


def test_rejected_entries_are_kept_synced_in_a_0600_file(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    assert journal.reject(entry(1)) and journal.reject(entry(2))
    assert lines(tmp_path / REJECTED) == [entry(1), entry(2)]
    assert mode(tmp_path / REJECTED) == 0o600


def test_an_entry_that_is_no_json_is_an_error_not_an_exception(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    assert not journal.append({"id": object()})
    assert journal.append(entry(1)) and journal.errors == 1
    assert lines(journal.seal()[0].path) == [entry(1)]


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 64 KiB tmpfs (root only; outside CI skipped without root), unmounted afterwards."""
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("the full-disk tests need root (mount)")
        pytest.skip("the full-disk tests need root (mount)")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs", str(disk)], check=True)
    try:
        yield disk
    finally:
        subprocess.run(["umount", "--lazy", str(disk)], check=True)


def test_a_full_disk_is_one_logged_error_counted_and_never_a_torn_line(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(small_disk / "records")
    written = []
    with caplog.at_level(logging.INFO, logger="hotline.journal"):
        for i in range(400):
            if journal.append(entry(i, size=1000)):
                written.append(i)
        assert 10 < len(written) < 400
        assert journal.errors == 400 - len(written)
        errors = [r for r in caplog.records if r.levelno == logging.ERROR]
        assert len(errors) == 1 and "No space left on device" in errors[0].getMessage()
        sealed = journal.seal()
        assert [e["id"] for s in sealed for e in lines(s.path)] == written  # whole lines only
        for segment in sealed:  # saved elsewhere: the space comes back
            journal.commit(segment)
        assert journal.append(entry(1000))
    assert "works again" in caplog.records[-1].getMessage()


def test_a_read_only_disk_is_an_error_then_works_again(
    small_disk: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(small_disk / "records")
    assert journal.append(entry(1))
    [sealed] = journal.seal()  # closed: a file open for writing would keep the remount busy
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    with caplog.at_level(logging.ERROR, logger="hotline.journal"):
        assert not journal.append(entry(2)) and not journal.append(entry(3))
        assert not journal.reject(entry(4))
    assert journal.errors == 3
    assert [r.getMessage().split(" (")[0] for r in caplog.records] == [
        f"cannot append to the journal in {small_disk / 'records'}",
        f"cannot write a refused entry to the journal in {small_disk / 'records'}",
    ]
    assert "Read-only file system" in caplog.records[0].getMessage()
    subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert journal.append(entry(5))
    journal.commit(sealed)
    assert segments(small_disk / "records") == ["journal-000000002.jsonl"]
