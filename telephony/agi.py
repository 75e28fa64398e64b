"""Asyncio FastAGI server with its own careful line reader (wire protocol only).

Headers up to a blank line, then one command line / one reply line; ``100 Trying`` lines are
skipped, ``520-`` usage blocks read to their end, inline ``HANGUP`` lines noted. Headers other
than script, unique id, language and ``agi_arg_N`` are dropped while parsing; logs and errors
carry only counts, codes, the command verb, the script name and the peer IP.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
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
_SAFE_NAME = re.compile(r"[A-Za-z0-9_./-]{1,255}")
_DTMF_CHARS = frozenset("0123456789*#ABCD")
_CHAR_CODE = re.compile(r"[1-9][0-9]{0,2}")
_MAX_USAGE_LINES = 256
_LINGER_CHUNK = 4096
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")


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


async def _read_line(reader: asyncio.StreamReader) -> str | None:
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
        line = await _read_line(reader)
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


def _parse_reply(line: str) -> AgiReply:
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


def _verb(command: str) -> str:
    """Check a command line for injection and return its first word."""
    if "\n" in command or "\r" in command:
        raise ValueError("AGI command must not contain line breaks")
    words = command.split(maxsplit=1)
    if not words:
        raise ValueError("empty AGI command")
    return words[0]


def _check_name(value: str, what: str) -> None:
    if not _SAFE_NAME.fullmatch(value):
        raise ValueError(f"unsafe {what}: use letters, digits, '_', '-', '/', '.'")


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _digits(reply: AgiReply) -> DigitsResult:
    if not set(reply.result) <= _DTMF_CHARS:
        raise AgiProtocolError("GET DATA result is not digits")
    return DigitsResult(digits=reply.result, timed_out=reply.timed_out)


def _digit_from_code(result: str) -> str:
    """STREAM FILE returns the ASCII code of the digit pressed, or 0."""
    if result == "0":
        return ""
    digit = chr(int(result)) if _CHAR_CODE.fullmatch(result) else ""
    if digit not in _DTMF_CHARS:
        raise AgiProtocolError("STREAM FILE result is not a digit code")
    return digit


class AgiChannel:
    """One FastAGI connection: write a command line, read its reply."""

    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        command_timeout: float = 300.0,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._command_timeout = command_timeout
        self._hungup = False
        self._out_of_sync = False
        self._ended = False

    @property
    def hungup(self) -> bool:
        return self._hungup

    async def command(self, verb_and_args: str) -> AgiReply:
        """Send one command line and return its 200 reply.

        Raises AgiHangup (hung up, EOF, 511), AgiCommandError (510, 520, other codes),
        AgiProtocolError (bad reply, no reply within command_timeout) and ValueError
        (line breaks in the command).
        """
        verb = _verb(verb_and_args)
        self._check_usable(verb)
        await self._send(verb_and_args, verb)
        reply = await self._await_reply(verb)
        logger.debug("AGI %s -> %d", verb, reply.code)
        return self._checked(reply, verb)

    async def answer(self) -> None:
        await self._fail_on_failure_result(await self.command("ANSWER"), "ANSWER")

    async def get_data(self, prompt: str, timeout_ms: int, max_digits: int) -> DigitsResult:
        _check_name(prompt, "prompt")
        if timeout_ms < 0 or max_digits < 1:
            raise ValueError("timeout_ms must be >= 0 and max_digits >= 1")
        reply = await self.command(f"GET DATA {prompt} {timeout_ms} {max_digits}")
        await self._fail_on_failure_result(reply, "GET DATA")
        return _digits(reply)

    async def stream_file(self, prompt: str, escape_digits: str = "") -> str:
        """Play a prompt; return the escape digit pressed, or '' when it played to the end."""
        _check_name(prompt, "prompt")
        if not set(escape_digits) <= _DTMF_CHARS:
            raise ValueError("escape digits must be DTMF characters")
        reply = await self.command(f"STREAM FILE {prompt} {_quote(escape_digits)}")
        await self._fail_on_failure_result(reply, "STREAM FILE")
        return _digit_from_code(reply.result)

    async def set_variable(self, name: str, value: str) -> None:
        _check_name(name, "variable name")
        await self.command(f"SET VARIABLE {name} {_quote(value)}")

    async def set_variables(self, pairs: Sequence[tuple[str, str]], *, last: bool = False) -> None:
        """Set several channel variables in one round trip (``EXEC MSet``), in order.

        Values may not hold ``,`` ``"`` ``\\`` or ``=``, which MSet cannot carry. With ``last``
        this is the session's final command (see :meth:`send_last`): its reply is not awaited."""
        for name, value in pairs:
            _check_name(name, "variable name")
            if any(c in value for c in ',"\\=\r\n'):
                raise ValueError(f'variable {name}: value cannot hold , " \\ or =')
        command = "EXEC MSet " + _quote(",".join(f"{name}={value}" for name, value in pairs))
        if last:
            await self.send_last(command)
            return
        reply = await self.command(command)
        if reply.result == "-2":
            raise AgiCommandError(reply.code, "EXEC MSet")

    async def send_last(self, verb_and_args: str) -> None:
        """Send the session's last command together with the end of our side of the connection.

        Asterisk reads the command before it reads the end, runs it, and leaves AGI by itself:
        the call moves on without one more round trip through this process, which under load
        is the slowest step of a call. The reply is not awaited, so use this only for a command
        whose failure the dialplan after AGI already handles. Nothing can be sent afterwards;
        the server then waits (:meth:`linger`) for Asterisk to close before it closes."""
        verb = _verb(verb_and_args)
        self._check_usable(verb)
        await self._send(verb_and_args, verb)
        self._ended = True
        try:
            if self._writer.can_write_eof():
                self._writer.write_eof()
        except (OSError, RuntimeError):
            self._hungup = True

    @property
    def ended(self) -> bool:
        """True once :meth:`send_last` ended our side of the session."""
        return self._ended

    async def linger(self) -> None:
        """Discard what Asterisk still sends (the last reply) until it closes; the caller bounds
        the wait (``asyncio.timeout``)."""
        with contextlib.suppress(ConnectionError):
            while await self._reader.read(_LINGER_CHUNK):
                pass

    async def set_language(self, language: str) -> None:
        """The channel's language: Asterisk's own sounds and hold music follow it."""
        if not _LANGUAGE.fullmatch(language):
            raise ValueError("language must look like 'ru' or 'en_GB'")
        await self.command(f"SET VARIABLE CHANNEL(language) {language}")

    async def verbose(self, message: str, level: int = 1) -> None:
        if not 1 <= level <= 4:
            raise ValueError("verbose level must be 1..4")
        await self.command(f"VERBOSE {_quote(message)} {level}")

    async def _fail_on_failure_result(self, reply: AgiReply, verb: str) -> None:
        """``result=-1`` means a hangup or a failure on a live channel (a missing prompt file).

        Asterisk announces a hangup with a ``HANGUP`` line before the next reply, so one
        ``NOOP`` tells the two apart: a live caller must not be taken for one who left.
        """
        if reply.result != RESULT_FAILURE:
            return
        if not self._hungup:
            await self.command("NOOP")
        if self._hungup:
            raise AgiHangup(f"AGI {verb} failed: caller hung up")
        raise AgiCommandError(reply.code, verb)

    def _check_usable(self, verb: str) -> None:
        if self._ended:
            raise AgiProtocolError(f"AGI {verb} not sent: the session was already ended")
        if self._hungup:
            raise AgiHangup(f"AGI {verb} not sent: channel hung up")
        if self._out_of_sync:
            raise AgiProtocolError(f"AGI {verb} not sent: reply stream out of sync")

    async def _send(self, text: str, verb: str) -> None:
        try:
            self._writer.write(text.encode("utf-8") + b"\n")
            await self._writer.drain()
        except ConnectionError:
            self._hungup = True
            raise AgiHangup(f"AGI {verb} not sent: connection lost") from None

    async def _await_reply(self, verb: str) -> AgiReply:
        try:
            async with asyncio.timeout(self._command_timeout):
                return await self._read_reply(verb)
        except TimeoutError:
            self._out_of_sync = True
            raise AgiProtocolError(f"AGI {verb}: no reply in {self._command_timeout:g} s") from None
        except AgiProtocolError:
            self._out_of_sync = True
            raise

    async def _read_reply(self, verb: str) -> AgiReply:
        while True:
            line = await self._next_line(verb)
            if line == HANGUP_LINE:
                self._hungup = True
                logger.debug("AGI HANGUP notice while waiting for %s", verb)
                continue
            reply = _parse_reply(line)
            if reply.code == CODE_TRYING:
                continue
            if line.startswith(USAGE_BLOCK_START):
                await self._skip_usage_block(verb)
            return reply

    async def _skip_usage_block(self, verb: str) -> None:
        for _ in range(_MAX_USAGE_LINES):
            if (await self._next_line(verb)).startswith(USAGE_BLOCK_END):
                return
        raise AgiProtocolError(f"AGI {verb}: usage block too long")

    async def _next_line(self, verb: str) -> str:
        line = await _read_line(self._reader)
        if line is None:
            self._hungup = True
            raise AgiHangup(f"AGI {verb}: connection closed before the reply")
        return line

    def _checked(self, reply: AgiReply, verb: str) -> AgiReply:
        if reply.code == CODE_SUCCESS:
            return reply
        if reply.code == CODE_DEAD_CHANNEL:
            self._hungup = True
            raise AgiHangup(f"AGI {verb} not permitted: channel is dead")
        raise AgiCommandError(reply.code, verb)


AgiHandler = Callable[[AgiRequest, AgiChannel], Awaitable[None]]
