"""Look for caller identities where none may be: files (database, logs, Asterisk's own
directories) and texts (API and metrics responses).

A needle is matched as bytes in every file below the given paths, whatever its format
(SQLite pages and WAL files included), so nothing is missed because of an encoding.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Finding:
    where: str
    needle: str


def needles_for(number: str) -> tuple[str, ...]:
    """A number as it could be written: as dialled, without '+', national part only."""
    digits = number.lstrip("+")
    forms = {number, digits}
    if len(digits) > 10:
        forms.add(digits[-10:])
    return tuple(sorted(forms, key=len))


def _files(paths: Iterable[Path]) -> Iterable[Path]:
    for path in paths:
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from (p for p in sorted(path.rglob("*")) if p.is_file() and not p.is_symlink())


def scan_files(paths: Iterable[Path], needles: Iterable[str]) -> list[Finding]:
    wanted = [(n, n.encode()) for n in needles]
    found: list[Finding] = []
    for file in _files(paths):
        try:
            data = file.read_bytes()
        except OSError:
            continue
        found.extend(Finding(str(file), n) for n, raw in wanted if raw in data)
    return found


def scan_text(where: str, text: str, needles: Iterable[str]) -> list[Finding]:
    return [Finding(where, n) for n in needles if n in text]
