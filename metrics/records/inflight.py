"""Calls in progress, kept on disk so that a restart (clean or ``kill -9``) continues them.

The assembler hands every change of an open call to :class:`InFlightLog`, which appends the
call's whole state as one JSON line (``{"open": {...}}``) to ``open-calls.jsonl``, and a
``{"closed": [node, call_id]}`` line when the call's record is handed on. A plain ``write`` to
an ``O_APPEND`` file survives the process (the kernel holds it); the file is fsync'd when it is
compacted and when the service stops. On start, :meth:`InFlightLog.load` gives the last state
of every call that was still open; the assembler takes them back and AMI's census settles
those Asterisk no longer has.

The lines hold what a call record holds (no caller number ever reaches a record). The file is
mode 0600 in a 0700 directory. A line cut short by a crash, or otherwise unreadable, is skipped
with a warning naming its line number.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from core.types import CallRef
from metrics.records import journal
from metrics.records.assembler import OpenCall

log = logging.getLogger("hotline.records")
FILE_NAME = "open-calls.jsonl"
_COMPACT_AT = 4096  # lines written since the last compaction, at least


def _stamp(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _unstamp(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def encode(state: OpenCall) -> str:
    """One line: the record as the record journal writes it, and the assembler's own times."""
    body = {
        "record": journal.encode(state.record),
        "seen": _stamp(state.seen),
        "talking": _stamp(state.talking),
        "completed": _stamp(state.completed),
    }
    return json.dumps({"open": body}, separators=(",", ":"))


def decode(body: dict[str, Any]) -> OpenCall:
    record = journal.decode(body["record"])
    seen = _unstamp(body["seen"])
    if seen is None:
        raise ValueError("a call without its last sighting")
    return OpenCall(record, seen, _unstamp(body["talking"]), _unstamp(body["completed"]))


@dataclass(frozen=True)
class Loaded:
    calls: list[OpenCall]
    skipped: int  # unreadable lines


class InFlightLog:
    """The assembler's keeper (``keep``/``drop``); one per service process."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        directory.chmod(0o700)
        self._path = directory / FILE_NAME
        self._lines: dict[CallRef, str] = {}  # the last state line of every open call
        self._written = 0
        self._fd = -1

    @property
    def path(self) -> Path:
        return self._path

    def load(self) -> Loaded:
        """The calls still open when the last process ended; then the file is compacted to them."""
        states: dict[CallRef, OpenCall] = {}
        skipped = 0
        if self._path.exists():
            with self._path.open(encoding="utf-8", errors="replace") as lines:
                for number, line in enumerate(lines, 1):
                    skipped += not self._replay(states, line, number)
        self._lines = {call: encode(state) for call, state in states.items()}
        self._compact()
        return Loaded(list(states.values()), skipped)

    def _replay(self, states: dict[CallRef, OpenCall], line: str, number: int) -> bool:
        try:
            entry = json.loads(line)
            if "closed" in entry:
                node, call_id = entry["closed"]
                states.pop(CallRef(str(node), str(call_id)), None)
            else:
                state = decode(entry["open"])
                states[CallRef(state.record.node, state.record.call_id)] = state
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("%s line %d skipped: %s", self._path.name, number, type(exc).__name__)
            return False
        return True

    def keep(self, state: OpenCall) -> None:
        line = encode(state)
        self._lines[CallRef(state.record.node, state.record.call_id)] = line
        self._append(line)

    def drop(self, call: CallRef) -> None:
        if self._lines.pop(call, None) is not None:
            self._append(json.dumps({"closed": [call.node, call.call_id]}, separators=(",", ":")))

    def _append(self, line: str) -> None:
        if self._fd < 0:
            self._open()
        try:
            os.write(self._fd, (line + "\n").encode())
        except OSError as exc:  # a full disk: the call goes on, its state stays in memory
            log.error("%s: %s; calls in progress are kept in memory only", self._path.name, exc.strerror)
            return
        self._written += 1
        if self._written >= max(_COMPACT_AT, 4 * len(self._lines)):
            try:
                self._compact()
            except OSError as exc:
                log.error("%s not compacted: %s", self._path.name, exc.strerror)

    def _open(self) -> None:
        self._fd = os.open(self._path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def _compact(self) -> None:
        """Rewrite the file with the open calls only (a new file, fsync'd, renamed over the old)."""
        fresh = self._path.with_suffix(".tmp")
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, "".join(line + "\n" for line in self._lines.values()).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(fresh, self._path)
        self.close()
        self._written = 0

    def sync(self) -> None:
        """On a clean stop: everything written so far reaches the disk."""
        if self._fd >= 0:
            os.fsync(self._fd)

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def open_calls(self) -> int:
        return len(self._lines)
