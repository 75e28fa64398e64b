"""Files that hold credentials or records: readable and writable by their owner only (0600),
in folders only their owner can enter (0700).

A folder this service makes for such files is made 0700. An existing folder is tightened only
when it is ours and holds nothing else (``private_dir(..., own=True)``): ``var_dir`` also holds
the prompts Asterisk must read, and a config directory may belong to Asterisk's user.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: Path, *, own: bool = False) -> None:
    """Make ``path`` (0700 when made here); with ``own``, tighten it to 0700 if we own it."""
    path.mkdir(parents=True, exist_ok=True, mode=DIR_MODE)
    if own and path.stat().st_uid == os.getuid():
        path.chmod(DIR_MODE)


def private_file(path: Path) -> None:
    """Create ``path`` empty at 0600 if it is missing; tighten it to 0600 if it exists."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, FILE_MODE)
    try:
        os.fchmod(fd, FILE_MODE)
    finally:
        os.close(fd)


def tighten(path: Path) -> None:
    """0600 for a file that may exist (a SQLite -wal or -shm); nothing if it does not."""
    with contextlib.suppress(FileNotFoundError):
        path.chmod(FILE_MODE)
