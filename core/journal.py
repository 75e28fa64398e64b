"""A local, append-only journal of JSON lines: entries that must outlive the process (and, once
synced, the machine) until a database has committed them.

Entries go to numbered segment files in one folder (mode 0700, files 0600):
``journal-000000001.jsonl``, one JSON object a line. :meth:`Journal.append` is one ``os.write``
to an ``O_APPEND`` descriptor: once it returns, the entry survives a crash of the process.
:meth:`Journal.seal` ends the current segment (the next entry opens a new one) and hands it to
whoever saves its entries, who :meth:`Journal.sync`\\ s it (fsync: it survives power loss) before
writing them elsewhere and :meth:`Journal.commit`\\ s it (removes it) after. Segments an earlier
process left behind are read back, in order, by :meth:`Journal.recovered`; a line that cannot be
read is reported with its file and line number, the rest of the segment is still read, and the
segment is kept as ``*.corrupt`` instead of being removed. :meth:`Journal.reject` keeps entries a
database refused in ``rejected.jsonl`` beside the segments.

A failure of the disk (full, read-only, gone) is logged once until the journal works again and
counted in ``errors``; the caller keeps the entry in memory. Logs name files, never contents.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

log = logging.getLogger("hotline.journal")
T = TypeVar("T")
SEGMENT = re.compile(r"journal-(\d+)\.jsonl")
CORRUPT = ".corrupt"
REJECTED = "rejected.jsonl"
_SHORT = os.strerror(errno.ENOSPC) + " (a short write)"


@dataclass(eq=False)
class Segment:
    path: Path
    fd: int = -1  # open while this process appends to it (the current segment only)
    size: int = 0  # bytes of whole lines
    bad_lines: int = 0  # unreadable lines found when it was recovered: kept as *.corrupt
    since: float = 0.0  # wall-clock time of its first entry (of the file, when recovered)
    synced: bool = False


@dataclass(frozen=True)
class Recovered(Generic[T]):
    segment: Segment
    entries: list[T]


@dataclass
class _Health:
    errors: int = 0
    failing: set[str] = field(default_factory=set)  # operations failing now (each logged once)
    lock: threading.Lock = field(default_factory=threading.Lock)


class Journal:
    """One folder's segments. ``append`` and ``seal`` belong to one thread (the event loop);
    ``sync``, ``commit``, ``reject`` and ``recovered`` may run on another."""

    def __init__(self, folder: Path, clock: Callable[[], float] = time.time) -> None:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        folder.chmod(0o700)
        self.folder = folder
        self._clock = clock
        numbered = sorted((int(m[1]), p) for p in folder.iterdir() if (m := SEGMENT.match(p.name)))
        self._earlier = [p for _, p in numbered if p.name.endswith(".jsonl")]
        self._next = numbered[-1][0] + 1 if numbered else 1
        self._current: Segment | None = None
        self._ended: list[Segment] = []  # cut short by a failed append, not sealed yet
        self._health = _Health()

    @property
    def errors(self) -> int:
        return self._health.errors

    def append(self, entry: Mapping[str, Any]) -> bool:
        """False when the entry could not be written (logged once, counted): keep it in memory."""
        segment = self._current
        try:
            data = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
            if segment is None:
                segment = self._current = self._open()
            written = os.write(segment.fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, _SHORT, str(segment.path))
        except (OSError, ValueError, TypeError) as exc:
            if segment is not None:
                self._cut(segment)
            self._failed("append to", exc)
            return False
        segment.size += written
        self._worked("append to")
        return True

    def seal(self) -> list[Segment]:
        """The segments appended to since the last seal, now closed (no descriptor stays open
        for a segment waiting through an outage)."""
        sealed, self._ended = self._ended, []
        if self._current is not None:
            sealed.append(self._current)
            self._current = None
        for segment in sealed:
            _close(segment)
        return sealed

    def sync(self, segments: Sequence[Segment]) -> None:
        """Each segment's lines, and the folder's entries for them, reach the disk (once)."""
        todo = [segment for segment in segments if not segment.synced]
        try:
            for segment in todo:
                fd = os.open(segment.path, os.O_RDONLY | os.O_CLOEXEC)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
                segment.synced = True
            if todo:
                folder = os.open(self.folder, os.O_RDONLY | os.O_DIRECTORY)
                try:
                    os.fsync(folder)
                finally:
                    os.close(folder)
        except OSError as exc:
            self._failed("sync", exc)
        else:
            self._worked("sync")

    def commit(self, segment: Segment) -> None:
        """Every entry of ``segment`` is safe elsewhere: the file goes (or stays as *.corrupt)."""
        try:
            if segment.bad_lines:
                segment.path.rename(segment.path.with_name(segment.path.name + CORRUPT))
            else:
                segment.path.unlink(missing_ok=True)
        except OSError as exc:  # left in place: a later start saves its entries again, harmlessly
            self._failed("remove a segment from", exc)
        else:
            self._worked("remove a segment from")

    def reject(self, entry: Mapping[str, Any]) -> bool:
        """Keep an entry the database refused, synced; False when that failed too."""
        try:
            data = (json.dumps(entry, separators=(",", ":")) + "\n").encode()
            fd = os.open(self.folder / REJECTED, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                if os.write(fd, data) != len(data):
                    raise OSError(errno.ENOSPC, _SHORT, REJECTED)
                os.fsync(fd)
            finally:
                os.close(fd)
        except (OSError, ValueError, TypeError) as exc:
            self._failed("write a refused entry to", exc)
            return False
        self._worked("write a refused entry to")
        return True

    def recovered(self, decode: Callable[[Any], T]) -> Iterator[Recovered[T]]:
        """The segments an earlier process left, oldest first, with their readable entries."""
        earlier, self._earlier = self._earlier, []
        for path in earlier:
            try:
                data = path.read_bytes()
                since = path.stat().st_mtime
            except OSError as exc:  # left in place for the next start
                self._failed("read", exc)
                continue
            segment = Segment(path, size=len(data), since=since)
            yield Recovered(segment, self._read(segment, data, decode))

    def _read(self, segment: Segment, data: bytes, decode: Callable[[Any], T]) -> list[T]:
        entries = []
        for number, line in enumerate(data.splitlines(keepends=True), 1):
            try:
                if not line.endswith(b"\n"):
                    raise ValueError("cut short")
                entries.append(decode(json.loads(line)))
            except (ValueError, TypeError, KeyError) as exc:
                segment.bad_lines += 1
                with self._health.lock:
                    self._health.errors += 1
                log.error(
                    "%s line %d cannot be read (%s): the other lines are saved, the file is kept as %s",
                    segment.path,
                    number,
                    type(exc).__name__,
                    segment.path.name + CORRUPT,
                )
        return entries

    def _open(self) -> Segment:
        path = self.folder / f"journal-{self._next:09d}.jsonl"
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC
        fd = os.open(path, flags, 0o600)
        self._next += 1
        return Segment(path, fd, since=self._clock())

    def _cut(self, segment: Segment) -> None:
        """A failed append may have left part of a line: back to the last whole one, or, when
        even that fails, the segment ends here (its last line then reads as corrupt)."""
        try:
            os.ftruncate(segment.fd, segment.size)
        except OSError:
            _close(segment)
            self._ended.append(segment)
            self._current = None

    def _failed(self, what: str, exc: BaseException) -> None:
        with self._health.lock:
            self._health.errors += 1
            first = what not in self._health.failing
            self._health.failing.add(what)
        if first:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else type(exc).__name__
            log.error(
                "cannot %s the journal in %s (%s): entries stay in memory until saved; "
                "no further error is logged until it works again",
                what,
                self.folder,
                reason,
            )

    def _worked(self, what: str) -> None:
        if what not in self._health.failing:
            return
        with self._health.lock:
            self._health.failing.discard(what)
            errors = self._health.errors
        log.info("the journal in %s works again (%s it; %d errors so far)", self.folder, what, errors)


def _close(segment: Segment) -> None:
    if segment.fd >= 0:
        fd, segment.fd = segment.fd, -1
        os.close(fd)
