"""Look for caller identities where none may be: files (database, logs, Asterisk's own
directories), database tables and texts (API and metrics responses).

A caller number is found in any usual spelling: ``+79000000001``, ``79000000001``,
``89000000001``, ``9000000001``, ``+7 (900) 000-00-01``, ``+7 900 000 00 01``, URL-encoded
``%2B79000000001``, and as UTF-16 text. One pass per file or text finds every run of digits
(spaces, hyphens and brackets between them allowed) and looks up each 10-digit window of it
among the numbers' national parts, so the cost does not grow with the number of callers.
Names are matched as they are (UTF-8 and UTF-16). Files are read as bytes, whatever their
format (SQLite pages and WAL files included): a deleted row whose bytes are still in a free
page is found too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from sqlalchemy import Engine, MetaData, select

NATIONAL_DIGITS: Final = 10
# Digits with the separators people write numbers with (no '.': it would join timestamps).
_RUN: Final = re.compile(rb"[0-9](?:[0-9]|[ ()\-]{1,2}(?=[0-9])){8,}")
_RUN_UTF16: Final = re.compile(rb"(?:[0-9]\x00(?:[ ()\-]\x00){0,2}){10,}")
_NOT_DIGIT: Final = re.compile(rb"[^0-9]")


@dataclass(frozen=True)
class Finding:
    where: str
    needle: str


def needles_for(number: str) -> tuple[str, ...]:
    """A number as it could be written: as dialled, without '+', national part only, with the
    trunk prefix 8, and the usual formatted spellings (Russian numbering)."""
    digits = re.sub(r"[^0-9]", "", number)
    national = digits[-NATIONAL_DIGITS:]
    forms = {number, digits, national}
    if len(digits) > NATIONAL_DIGITS:
        code, a, b, c, d = digits[:-NATIONAL_DIGITS], national[:3], national[3:6], national[6:8], national[8:]
        forms |= {
            "8" + national,
            f"+{code} {a} {b}-{c}-{d}",
            f"+{code} ({a}) {b}-{c}-{d}",
            f"+{code} {a} {b} {c} {d}",
            f"%2B{digits}",
        }
    return tuple(sorted(forms, key=len))


class Scanner:
    """Finds any of ``numbers`` (any spelling) or ``names`` in bytes, texts, files and tables."""

    def __init__(self, numbers: Iterable[str], names: Iterable[str] = ()) -> None:
        self._by_national: dict[bytes, str] = {}
        for number in numbers:
            digits = re.sub(r"[^0-9]", "", number)
            if len(digits) < NATIONAL_DIGITS:
                raise ValueError(f"a number to look for needs {NATIONAL_DIGITS} digits or more: {number!r}")
            self._by_national[digits[-NATIONAL_DIGITS:].encode()] = number
        self._names = [(n, n.encode("utf-8"), n.encode("utf-16-le")) for n in names if n]

    def scan_bytes(self, where: str, data: bytes) -> list[Finding]:
        found = set(self._numbers_in(data, _RUN, b""))
        found |= set(self._numbers_in(data, _RUN_UTF16, b"\x00"))
        found |= {name for name, utf8, utf16 in self._names if utf8 in data or utf16 in data}
        return [Finding(where, needle) for needle in sorted(found)]

    def _numbers_in(self, data: bytes, run: re.Pattern[bytes], pad: bytes) -> Iterator[str]:
        for match in run.finditer(data):
            digits = _NOT_DIGIT.sub(b"", match.group().replace(pad, b"") if pad else match.group())
            for start in range(len(digits) - NATIONAL_DIGITS + 1):
                number = self._by_national.get(digits[start : start + NATIONAL_DIGITS])
                if number is not None:
                    yield number

    def scan_text(self, where: str, text: str) -> list[Finding]:
        return self.scan_bytes(where, text.encode("utf-8"))

    def scan_files(self, paths: Iterable[Path]) -> list[Finding]:
        found: list[Finding] = []
        for file in _files(paths):
            try:
                data = file.read_bytes()
            except OSError:
                continue
            found.extend(self.scan_bytes(str(file), data))
        return found

    def scan_database(self, engine: Engine) -> list[Finding]:
        """Every column of every row of every table, as text."""
        tables = MetaData()
        tables.reflect(engine)
        found: list[Finding] = []
        with engine.connect() as connection:
            for table in tables.sorted_tables:
                for row in connection.execute(select(table)).yield_per(1000):
                    for column, value in zip(table.columns, row, strict=True):
                        if value is not None:
                            text = value if isinstance(value, str) else str(value)
                            found.extend(self.scan_text(f"database {table.name}.{column.name}", text))
        return sorted(set(found), key=lambda f: (f.where, f.needle))


def _files(paths: Iterable[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_file():
            yield path
        elif path.is_dir():
            yield from (p for p in sorted(path.rglob("*")) if p.is_file() and not p.is_symlink())


def scan_files(paths: Iterable[Path], needles: Iterable[str]) -> list[Finding]:
    """Plain substring search of ``needles`` (any text) in every file below ``paths``."""
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
