"""The FastAGI wire protocol: its codes, errors and values, and a careful line reader.

Headers up to a blank line, then one command line / one reply line; ``100 Trying`` lines are
skipped, ``520-`` usage blocks read to their end, inline ``HANGUP`` lines noted. Headers other
than script, unique id, language and ``agi_arg_N`` are dropped while parsing; logs and errors
carry only counts, codes, the command verb, the script name and the peer IP.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass

logger = logging.getLogger("hotline.agi")

CODE_TRYING = 100
CODE_SUCCESS = 200
CODE_INVALID_COMMAND = 510
CODE_DEAD_CHANNEL = 511
CODE_USAGE = 520
RESULT_FAILURE = "-1"
DATA_TIMEOUT = "timeout"
HANGUP_LINE = "HANGUP"
USAGE_BLOCK_START = "520-"
USAGE_BLOCK_END = "520 "

HEADER_SCRIPT = "agi_network_script"
HEADER_UNIQUEID = "agi_uniqueid"
HEADER_LANGUAGE = "agi_language"
_KEPT_HEADERS = frozenset({HEADER_SCRIPT, HEADER_UNIQUEID, HEADER_LANGUAGE})
_ARG_HEADER = re.compile(r"agi_arg_([0-9]{1,4})")
_HEADER_KEY = re.compile(r"agi_[a-z0-9_]{1,64}")
_REPLY_LINE = re.compile(r"([0-9]{3})[ -](.*)")
_RESULT = re.compile(r"result=(\S*)(?: \((.*)\))?")


class AgiError(Exception):
    """Base of all FastAGI failures; the message never carries header values."""


class AgiHangup(AgiError):
    """The caller is gone: EOF, 511, or a failure result after a hangup."""


class AgiProtocolError(AgiError):
    """Malformed or oversized input, a header timeout or a missing reply."""


class AgiCommandError(AgiError):
    """Asterisk rejected a command (510, 520 or an unexpected code), or a command failed
    (``result=-1``) on a live channel, e.g. a prompt file that does not exist (code 200)."""

    def __init__(self, code: int, verb: str) -> None:
        super().__init__(f"AGI {verb} rejected with code {code}")
        self.code = code
        self.verb = verb


@dataclass(frozen=True)
class AgiReply:
    code: int
    result: str
    data: str | None
    timed_out: bool


@dataclass(frozen=True)
class DigitsResult:
    digits: str
    timed_out: bool


@dataclass(frozen=True)
class AgiRequest:
    """The only header fields that survive parsing, plus the peer IP."""

    script: str
    uniqueid: str
    language: str
    args: tuple[str, ...]
    peer: str
    # Calls from the same number within the repeat window (privacy/repeat.py), counted where
    # the number arrives; the number itself is not kept.
    repeat_count: int | None = None


# Sees the caller's number once, as it arrives, and returns only a count (or None).
CallerCounter = Callable[[str], "int | None"]
HEADER_CALLERID = "agi_callerid"


async def read_line(reader: asyncio.StreamReader) -> str | None:
    """Return one line without its terminator, or None at EOF (a partial line is dropped)."""
    try:
        raw = await reader.readuntil(b"\n")
    except (asyncio.IncompleteReadError, ConnectionError):
        return None
    except asyncio.LimitOverrunError:
        raise AgiProtocolError("line too long") from None
    return raw.decode("utf-8", errors="replace").rstrip("\r\n")


async def _read_headers(
    reader: asyncio.StreamReader, max_lines: int, counter: CallerCounter | None = None
) -> tuple[dict[str, str], int | None]:
    """Read header lines up to the blank line, keeping only the allowed keys; the caller's
    number goes to ``counter`` only, and only its count comes back.

    The block usually arrives whole and within the reader's limit: it is taken in one read
    then. A block over the limit is read line by line, under the same per-line limit."""
    try:
        block = await reader.readuntil(b"\n\n")
    except asyncio.LimitOverrunError:
        return await _read_header_lines(reader, max_lines, counter)
    except (asyncio.IncompleteReadError, ConnectionError):
        raise AgiProtocolError("connection closed before end of headers") from None
    lines = block.decode("utf-8", errors="replace").split("\n")[:-2]
    if len(lines) > max_lines:
        raise AgiProtocolError("too many header lines")
    kept: dict[str, str] = {}
    repeat: int | None = None
    for number, line in enumerate(lines):
        repeat = _header_line(kept, line.rstrip("\r"), counter, repeat, first=number == 0)
    return kept, repeat


async def _read_header_lines(
    reader: asyncio.StreamReader, max_lines: int, counter: CallerCounter | None
) -> tuple[dict[str, str], int | None]:
    kept: dict[str, str] = {}
    repeat: int | None = None
    for count in range(max_lines + 1):
        line = await read_line(reader)
        if line is None:
            raise AgiProtocolError("connection closed before end of headers")
        if not line and count:
            return kept, repeat
        repeat = _header_line(kept, line, counter, repeat, first=count == 0)
    raise AgiProtocolError("too many header lines")


def _header_line(
    kept: dict[str, str], line: str, counter: CallerCounter | None, repeat: int | None, *, first: bool
) -> int | None:
    """Take one header line; return the repeat count (changed only by the caller id line)."""
    if not line:
        raise AgiProtocolError("empty header block" if first else "malformed header line")
    if counter is not None and line.startswith(HEADER_CALLERID + ":"):
        return counter(line.partition(":")[2].strip())
    _keep_header(kept, line)
    return repeat


def _keep_header(kept: dict[str, str], line: str) -> None:
    key, sep, value = line.partition(":")
    if not sep or not _HEADER_KEY.fullmatch(key):
        raise AgiProtocolError("malformed header line")
    if key in _KEPT_HEADERS or _ARG_HEADER.fullmatch(key):
        kept[key] = value.removeprefix(" ")


def _build_request(kept: dict[str, str], peer: str, repeat: int | None = None) -> AgiRequest:
    numbered = [(int(m.group(1)), v) for k, v in kept.items() if (m := _ARG_HEADER.fullmatch(k))]
    return AgiRequest(
        script=kept.get(HEADER_SCRIPT, ""),
        uniqueid=kept.get(HEADER_UNIQUEID, ""),
        language=kept.get(HEADER_LANGUAGE, ""),
        args=tuple(value for _, value in sorted(numbered)),
        peer=peer,
        repeat_count=repeat,
    )


async def read_request(
    reader: asyncio.StreamReader, peer: str, max_lines: int, counter: CallerCounter | None = None
) -> AgiRequest:
    """The scrubbed request of one FastAGI connection: only the allowed headers survive."""
    kept, repeat = await _read_headers(reader, max_lines, counter)
    return _build_request(kept, peer, repeat)


def parse_reply(line: str) -> AgiReply:
    match = _REPLY_LINE.fullmatch(line)
    if match is None:
        raise AgiProtocolError("malformed reply line")
    code = int(match.group(1))
    result = _RESULT.match(match.group(2))
    if result is None:
        if code == CODE_SUCCESS:
            raise AgiProtocolError("200 reply without result")
        return AgiReply(code=code, result="", data=None, timed_out=False)
    data = result.group(2)
    return AgiReply(code=code, result=result.group(1), data=data, timed_out=data == DATA_TIMEOUT)
