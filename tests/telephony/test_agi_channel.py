"""The AGI channel against a fake Asterisk over real TCP: commands, replies, hangups, and
unsafe input refused before it is sent."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from telephony.agi import (
    AgiCommandError,
    AgiHangup,
    AgiProtocolError,
    AgiReply,
    DigitsResult,
)
from telephony.agi_channel import AgiChannel
from tests.telephony.agi_peer import (
    SYNTHETIC_CALLER,
    WAIT,
    FakeAsterisk,
    Probe,
)
from tests.telephony.conftest import StartServer, assert_still_serves, wait_idle


async def test_get_data_returns_digit(start_server: StartServer) -> None:
    probe = Probe(lambda ch: ch.get_data("hello-world", 5000, 1))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    assert await peer.reply("200 result=5") == "GET DATA hello-world 5000 1"
    await probe.finished()
    assert probe.result == DigitsResult(digits="5", timed_out=False)
    assert server.sessions_total == 1


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("200 result= (timeout)", DigitsResult(digits="", timed_out=True)),
        ("200 result=12 (timeout)", DigitsResult(digits="12", timed_out=True)),
        ("200 result=1234", DigitsResult(digits="1234", timed_out=False)),
    ],
)
async def test_get_data_timeout_marker(start_server: StartServer, line: str, expected: DigitsResult) -> None:
    probe = Probe(lambda ch: ch.get_data("crisis/menu", 3000, 4))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await peer.reply(line)
    await probe.finished()
    assert probe.result == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("200 result=1 (some value) endpos=10", AgiReply(200, "1", "some value", False)),
        ("200 result=0 endpos=8000", AgiReply(200, "0", None, False)),
        ("200 result=1 (a (nested) value)", AgiReply(200, "1", "a (nested) value", False)),
        ("200 result=-1\r", AgiReply(200, "-1", None, False)),
    ],
)
async def test_reply_fields(start_server: StartServer, line: str, expected: AgiReply) -> None:
    probe = Probe(lambda ch: ch.command("GET VARIABLE HOTLINE_X"))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await peer.reply(line)
    await probe.finished()
    assert probe.result == expected


async def test_trying_line_is_skipped_and_stream_stays_in_sync(start_server: StartServer) -> None:
    async def script(ch: AgiChannel) -> tuple[AgiReply, AgiReply]:
        first = await ch.command("EXEC Gosub crisis-sub,s,1")
        return first, await ch.command("NOOP")

    probe = Probe(script)
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await peer.reply("100 result=0 Trying...", "200 result=7")
    assert await peer.reply("200 result=0") == "NOOP"
    await probe.finished()
    assert probe.result == (AgiReply(200, "7", None, False), AgiReply(200, "0", None, False))


async def test_usage_block_is_read_whole(start_server: StartServer) -> None:
    async def script(ch: AgiChannel) -> tuple[int, str, str, AgiReply]:
        with pytest.raises(AgiCommandError) as caught:
            await ch.command("GET DATA")
        return caught.value.code, caught.value.verb, str(caught.value), await ch.command("NOOP")

    probe = Probe(script)
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await peer.reply(
        "520-Invalid command syntax.  Proper usage follows:",
        "Usage: GET DATA <file to be streamed> [timeout] [maxdigits]",
        "",
        "200 result=9",
        "520 End of proper usage.",
    )
    await peer.reply("200 result=0")
    await probe.finished()
    assert probe.result == (
        520,
        "GET",
        "AGI GET rejected with code 520",
        AgiReply(200, "0", None, False),
    )


async def test_invalid_command_raises_510_with_verb_only(start_server: StartServer) -> None:
    async def script(ch: AgiChannel) -> tuple[int, str, AgiReply]:
        with pytest.raises(AgiCommandError) as caught:
            await ch.command(f"FROBNICATE {SYNTHETIC_CALLER}")
        return caught.value.code, str(caught.value), await ch.command("NOOP")

    probe = Probe(script)
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await peer.reply("510 Invalid or unknown command")
    await peer.reply("200 result=0")
    await probe.finished()
    assert probe.result == (
        510,
        "AGI FROBNICATE rejected with code 510",
        AgiReply(200, "0", None, False),
    )


async def test_inline_hangup_before_reply(start_server: StartServer) -> None:
    async def script(ch: AgiChannel) -> tuple[AgiReply, bool]:
        reply = await ch.command("NOOP")
        hungup = ch.hungup
        await ch.command("NOOP")
        return reply, hungup

    probe = Probe(script)
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await peer.reply("HANGUP", "200 result=0")
    await probe.finished()
    assert probe.result is None
    assert isinstance(probe.error, AgiHangup)
    assert probe.hungup_after is True
    assert await peer.read_until_closed() == b""  # the second command was never written
    await wait_idle(server)
    assert server.errors_total == 0


async def test_inline_hangup_then_failure_result_raises_hangup(start_server: StartServer) -> None:
    probe = Probe(lambda ch: ch.stream_file("crisis/welcome", "12"))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    assert await peer.reply("HANGUP", "200 result=-1 endpos=0") == 'STREAM FILE crisis/welcome "12"'
    await probe.finished()
    assert isinstance(probe.error, AgiHangup)
    assert probe.hungup_after is True


async def test_failure_result_on_a_live_channel_is_not_a_hangup(start_server: StartServer) -> None:
    # Recorded from Asterisk 22: GET DATA of a missing prompt answers -1, the channel lives.
    probe = Probe(lambda ch: ch.get_data("no-such-prompt", 1000, 1))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    assert await peer.reply("200 result=-1") == "GET DATA no-such-prompt 1000 1"
    assert await peer.reply("200 result=0") == "NOOP"
    await probe.finished()
    assert isinstance(probe.error, AgiCommandError) and probe.error.verb == "GET DATA"
    assert probe.hungup_after is False


async def test_failure_result_then_hangup_line_is_a_hangup(start_server: StartServer) -> None:
    # Recorded from Asterisk 22: a caller leaving during GET DATA gives -1, then HANGUP
    # arrives before the reply to the next command.
    probe = Probe(lambda ch: ch.get_data("hello-world", 5000, 1))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    assert await peer.reply("200 result=-1") == "GET DATA hello-world 5000 1"
    assert await peer.reply("HANGUP", "200 result=0") == "NOOP"
    await probe.finished()
    assert isinstance(probe.error, AgiHangup)
    assert probe.hungup_after is True


async def test_dead_channel_511_raises_hangup(start_server: StartServer) -> None:
    probe = Probe(lambda ch: ch.answer())
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await peer.reply("511 Command Not Permitted on a dead channel or intercepted channel")
    await probe.finished()
    assert isinstance(probe.error, AgiHangup)
    assert probe.hungup_after is True


@pytest.mark.parametrize(
    ("line", "digit"), [("200 result=50 endpos=12345", "2"), ("200 result=0 endpos=8000", "")]
)
async def test_stream_file_returns_digit(start_server: StartServer, line: str, digit: str) -> None:
    probe = Probe(lambda ch: ch.stream_file("crisis/welcome", "12"))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await peer.reply(line)
    await probe.finished()
    assert probe.result == digit


@pytest.mark.parametrize(
    ("script", "line"),
    [
        (lambda ch: ch.stream_file("crisis/welcome", "12"), "200 result=\u00b2"),
        (lambda ch: ch.stream_file("crisis/welcome", "12"), "200 result=65536"),
        (lambda ch: ch.stream_file("crisis/welcome", "12"), "200 result=120"),
        (lambda ch: ch.get_data("crisis/menu", 5000, 2), "200 result=1x"),
        (lambda ch: ch.answer(), "200 (no result)"),
        (lambda ch: ch.answer(), "OK then"),
    ],
)
async def test_bad_reply_raises_protocol_error(
    start_server: StartServer, script: Callable[[AgiChannel], Awaitable[object]], line: str
) -> None:
    probe = Probe(script)
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await peer.reply(line)
    await probe.finished()
    assert isinstance(probe.error, AgiProtocolError)
    assert line not in str(probe.error)
    await wait_idle(server)
    assert server.errors_total == 1


async def test_peer_closing_during_command(start_server: StartServer) -> None:
    probe = Probe(lambda ch: ch.get_data("crisis/menu", 5000, 1))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    assert await peer.expect_command() == "GET DATA crisis/menu 5000 1"
    await peer.close()
    await probe.finished()
    assert isinstance(probe.error, AgiHangup)
    assert probe.hungup_after is True
    await wait_idle(server)
    assert server.errors_total == 0
    await assert_still_serves(server, probe)
    assert server.sessions_total == 2


async def test_command_timeout_leaves_channel_unusable(start_server: StartServer) -> None:
    async def script(ch: AgiChannel) -> tuple[str, str]:
        with pytest.raises(AgiProtocolError) as first:
            await ch.command("NOOP")
        with pytest.raises(AgiProtocolError) as second:
            await ch.command("NOOP")
        return str(first.value), str(second.value)

    probe = Probe(script)
    server = await start_server(probe, command_timeout=0.1)
    peer = await FakeAsterisk.connect(server.port)
    assert await peer.expect_command() == "NOOP"
    await probe.finished()
    assert probe.result == (
        "AGI NOOP: no reply in 0.1 s",
        "AGI NOOP not sent: reply stream out of sync",
    )
    assert await peer.read_until_closed() == b""


async def test_set_variable_and_verbose_quote_values(start_server: StartServer) -> None:
    async def script(ch: AgiChannel) -> None:
        await ch.set_variable("HOTLINE_NOTE", 'say "hi" \\ now')
        await ch.verbose('menu "night"', 3)

    probe = Probe(script)
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    assert await peer.reply("200 result=1") == 'SET VARIABLE HOTLINE_NOTE "say \\"hi\\" \\\\ now"'
    assert await peer.reply("200 result=1") == 'VERBOSE "menu \\"night\\"" 3'
    await probe.finished()
    assert probe.error is None


async def test_set_variables_is_one_mset_in_order(start_server: StartServer) -> None:
    pairs = [("HOTLINE_QUEUE", "crisis"), ("HOTLINE_PRIO", "10"), ("HOTLINE_IVR_RESULT", "queue")]
    probe = Probe(lambda ch: ch.set_variables(pairs))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    command = 'EXEC MSet "HOTLINE_QUEUE=crisis,HOTLINE_PRIO=10,HOTLINE_IVR_RESULT=queue"'
    assert await peer.reply("200 result=0") == command
    await probe.finished()
    assert probe.error is None


async def test_last_mset_is_sent_with_the_end_of_our_side(start_server: StartServer) -> None:
    """Asterisk gets the command, then EOF, while its own reply can still be written; the
    server closes only after Asterisk does, and nothing more can be sent."""
    after: list[BaseException] = []

    async def script(ch: AgiChannel) -> None:
        await ch.set_variables([("HOTLINE_QUEUE", "crisis"), ("HOTLINE_IVR_RESULT", "queue")], last=True)
        try:
            await ch.command("NOOP")
        except AgiProtocolError as exc:
            after.append(exc)

    probe = Probe(script)
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    assert await peer.expect_command() == 'EXEC MSet "HOTLINE_QUEUE=crisis,HOTLINE_IVR_RESULT=queue"'
    assert await asyncio.wait_for(peer.reader.read(), WAIT) == b""  # our side ended, no NOOP
    await probe.finished()
    assert probe.error is None
    assert [str(e) for e in after] == ["AGI NOOP not sent: the session was already ended"]
    await peer.send("200 result=0")  # the reply still reaches an open socket
    assert server.active_sessions == 1  # lingering until Asterisk closes
    await peer.close()
    await wait_idle(server)
    assert server.errors_total == 0


@pytest.mark.parametrize("value", ["a,b", 'a"b', "a=b", "a\\b"])
async def test_set_variables_refuses_what_mset_cannot_carry(start_server: StartServer, value: str) -> None:
    probe = Probe(lambda ch: ch.set_variables([("HOTLINE_QUEUE", value)]))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await probe.finished()
    assert isinstance(probe.error, ValueError)
    assert await peer.read_until_closed() == b""  # nothing was sent


async def test_set_variables_without_mset_is_a_command_error(start_server: StartServer) -> None:
    probe = Probe(lambda ch: ch.set_variables([("HOTLINE_QUEUE", "main")]))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await peer.reply("200 result=-2")
    await probe.finished()
    assert isinstance(probe.error, AgiCommandError)


async def test_unsafe_input_is_rejected_before_sending(start_server: StartServer) -> None:
    attempts: list[Callable[[AgiChannel], Awaitable[object]]] = [
        lambda ch: ch.command("ANSWER\nHANGUP"),
        lambda ch: ch.command("NOOP\r"),
        lambda ch: ch.command("   "),
        lambda ch: ch.set_variable("HOTLINE_NOTE", "a\nEXEC Dial"),
        lambda ch: ch.set_variable("BAD NAME", "x"),
        lambda ch: ch.get_data("hello\nworld", 5000, 1),
        lambda ch: ch.get_data("hello world", 5000, 1),
        lambda ch: ch.get_data("hello-world", 5000, 0),
        lambda ch: ch.stream_file("welcome", '1"'),
        lambda ch: ch.verbose("x", 9),
    ]

    async def script(ch: AgiChannel) -> int:
        rejected = 0
        for attempt in attempts:
            with pytest.raises(ValueError):
                await attempt(ch)
            rejected += 1
        await ch.answer()
        return rejected

    probe = Probe(script)
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    assert await peer.reply("200 result=0") == "ANSWER"
    await probe.finished()
    assert probe.result == len(attempts)
