"""One FastAGI connection as the IVR sees it: commands written, their replies read in step
(``100 Trying`` skipped, ``520-`` usage blocks read to their end, inline ``HANGUP`` noted)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence

from telephony.agi import (
    CODE_DEAD_CHANNEL,
    CODE_SUCCESS,
    CODE_TRYING,
    HANGUP_LINE,
    RESULT_FAILURE,
    USAGE_BLOCK_END,
    USAGE_BLOCK_START,
    AgiCommandError,
    AgiHangup,
    AgiProtocolError,
    AgiReply,
    AgiRequest,
    DigitsResult,
    parse_reply,
    read_line,
)

logger = logging.getLogger("hotline.agi")

_SAFE_NAME = re.compile(r"[A-Za-z0-9_./-]{1,255}")
_DTMF_CHARS = frozenset("0123456789*#ABCD")
_CHAR_CODE = re.compile(r"[1-9][0-9]{0,2}")
_MAX_USAGE_LINES = 256
_LINGER_CHUNK = 4096
_LANGUAGE = re.compile(r"[a-z]{2,3}(_[A-Z]{2})?")
_HEADER = re.compile(r"X-[A-Za-z0-9-]{1,60}")  # our own X- headers only: none carries personal data


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

    async def sip_header(self, name: str) -> str:
        """A header of the SIP request that made the channel (``PJSIP_HEADER(read,...)``), as
        sent: '' when absent. Only X- headers: the caller's (From, P-Asserted-Identity) never."""
        if not _HEADER.fullmatch(name):
            raise ValueError("only X- header names")
        reply = await self.command(f"GET FULL VARIABLE ${{PJSIP_HEADER(read,{name})}}")
        return reply.data or "" if reply.result == "1" else ""

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
            reply = parse_reply(line)
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
        line = await read_line(self._reader)
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
