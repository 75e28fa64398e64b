"""The FastAGI server and its header reader against a fake Asterisk over real TCP: limits,
peers, scrubbing, a crashing handler, the listen backlog."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import time
from pathlib import Path

import pytest

from telephony.agi import (
    AgiRequest,
    DigitsResult,
    read_request,
)
from telephony.agi_channel import AgiChannel
from tests.telephony.agi_peer import (
    HEADERS,
    SYNTHETIC_CALLER,
    SYNTHETIC_DNID,
    FakeAsterisk,
    Probe,
)
from tests.telephony.conftest import StartServer, assert_still_serves, wait_idle


async def test_client_closing_before_headers_end_does_not_spin(start_server: StartServer) -> None:
    probe = Probe()
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port, headers=None)
    await peer.send("agi_network: yes", "agi_uniqueid: 1700000000.1")
    await peer.close()
    started = time.process_time()
    await wait_idle(server)
    assert time.process_time() - started < 0.5
    assert server.errors_total == 1
    assert not probe.started.is_set()
    await assert_still_serves(server, probe)


async def test_half_line_then_eof_is_protocol_error(start_server: StartServer) -> None:
    probe = Probe()
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port, headers=None)
    peer.writer.write(b"agi_network: y")
    peer.writer.write_eof()
    assert await peer.read_until_closed() == b""
    await wait_idle(server)
    assert server.errors_total == 1
    assert not probe.started.is_set()


async def test_oversized_header_line_is_rejected(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hotline.agi")
    probe = Probe()
    server = await start_server(probe, max_line_bytes=256)
    peer = await FakeAsterisk.connect(server.port, headers=None)
    await peer.send("agi_network: yes", "agi_calleridname: " + "Z" * 1000, "")
    assert await peer.read_until_closed() == b""
    await wait_idle(server)
    assert server.errors_total == 1
    assert not probe.started.is_set()
    assert "line too long" in caplog.text
    assert "ZZZ" not in caplog.text


async def test_header_line_count_is_bounded(start_server: StartServer) -> None:
    probe = Probe()
    server = await start_server(probe, max_header_lines=5)
    at_limit = await FakeAsterisk.connect(server.port, headers=dict(list(HEADERS.items())[:5]))
    await probe.finished()
    await at_limit.close()
    over = await FakeAsterisk.connect(server.port, headers=dict(list(HEADERS.items())[:6]))
    assert await over.read_until_closed() == b""
    await wait_idle(server)
    assert len(probe.requests) == 1
    assert server.errors_total == 1


async def test_header_timeout(start_server: StartServer) -> None:
    probe = Probe()
    server = await start_server(probe, header_timeout=0.2)
    peer = await FakeAsterisk.connect(server.port, headers=None)
    await peer.send("agi_network: yes")
    started = time.monotonic()
    assert await peer.read_until_closed() == b""
    assert 0.15 < time.monotonic() - started < 1.5
    await wait_idle(server)
    assert server.errors_total == 1
    assert not probe.started.is_set()


@pytest.mark.parametrize("junk", ["GET / HTTP/1.1", "agi_callerid", "AGI_CALLERID: 1", "", ":x"])
async def test_junk_header_is_rejected(start_server: StartServer, junk: str) -> None:
    probe = Probe()
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port, headers=None)
    await peer.send(junk, "agi_network: yes", "")
    assert await peer.read_until_closed() == b""
    await wait_idle(server)
    assert server.errors_total == 1
    assert not probe.started.is_set()


async def test_disallowed_peer_is_closed_without_reading(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="hotline.agi")
    probe = Probe()
    server = await start_server(probe, allowed_peers=frozenset({"10.9.9.9"}))
    peer = await FakeAsterisk.connect(server.port, headers=None)
    assert await peer.read_until_closed() == b""
    assert server.sessions_total == 0
    assert not probe.started.is_set()
    assert [r.getMessage() for r in caplog.records] == [
        "FastAGI connection from 127.0.0.1 refused: peer not allowed"
    ]


async def test_allowed_peer_is_served(start_server: StartServer) -> None:
    probe = Probe()
    server = await start_server(probe, allowed_peers=frozenset({"10.9.9.9", "127.0.0.1"}))
    peer = await FakeAsterisk.connect(server.port)
    await probe.finished()
    await peer.close()
    assert probe.requests[0].peer == "127.0.0.1"


async def test_handler_crash_is_contained(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    async def script(ch: AgiChannel) -> None:
        raise RuntimeError("handler bug")

    caplog.set_level(logging.ERROR, logger="hotline.agi")
    probe = Probe(script)
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    assert await peer.read_until_closed() == b""
    await wait_idle(server)
    assert server.errors_total == 1
    [record] = caplog.records
    assert record.getMessage() == "FastAGI handler for script crisis-menu failed"
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    await assert_still_serves(server, probe)
    assert server.errors_total == 2
    assert server.sessions_total == 2


async def test_request_is_scrubbed(start_server: StartServer, caplog: pytest.LogCaptureFixture) -> None:
    async def script(ch: AgiChannel) -> None:
        await ch.get_data("crisis/menu", 5000, 1)
        raise RuntimeError("handler bug")

    caplog.set_level(logging.DEBUG)
    probe = Probe(script)
    server = await start_server(probe, max_line_bytes=256)
    peer = await FakeAsterisk.connect(server.port)
    await peer.reply("200 result=3")
    await probe.finished()
    junk = await FakeAsterisk.connect(server.port, headers=None)
    await junk.send(f"agi_callerid {SYNTHETIC_CALLER}", "")
    long_line = await FakeAsterisk.connect(server.port, headers=None)
    await long_line.send(f"agi_callerid: {SYNTHETIC_CALLER}" * 20, "")
    for connection in (peer, junk, long_line):
        assert await connection.read_until_closed() == b""
    await wait_idle(server)

    [request] = probe.requests
    assert request == AgiRequest(
        script="crisis-menu",
        uniqueid="1700000000.42",
        language="ru",
        args=("ru", "night"),
        peer="127.0.0.1",
    )
    assert SYNTHETIC_CALLER[1:] not in repr(request)
    assert server.errors_total == 3
    formatter = logging.Formatter()
    logged = "\n".join(formatter.format(record) for record in caplog.records)
    assert "hotline.agi" in {record.name for record in caplog.records}
    for number in (SYNTHETIC_CALLER[1:], SYNTHETIC_DNID[1:]):
        assert number not in logged


async def test_args_are_ordered_by_index(start_server: StartServer) -> None:
    probe = Probe()
    server = await start_server(probe)
    headers = {"agi_arg_10": "j", "agi_arg_2": "b", "agi_arg_1": "a", "agi_network_script": "s"}
    peer = await FakeAsterisk.connect(server.port, headers=headers)
    await probe.finished()
    await peer.close()
    assert probe.requests == [
        AgiRequest(script="s", uniqueid="", language="", args=("a", "b", "j"), peer="127.0.0.1")
    ]


async def test_header_block_over_the_reader_limit_is_read_line_by_line(start_server: StartServer) -> None:
    probe = Probe()
    server = await start_server(probe, max_line_bytes=256)
    headers = dict(HEADERS) | {f"agi_arg_{n}": f"argument-{n:03d}-" + "x" * 150 for n in range(3, 30)}
    assert len("".join(f"{k}: {v}\n" for k, v in headers.items())) > 256 * 10
    peer = await FakeAsterisk.connect(server.port, headers=headers)
    await probe.finished()
    assert len(probe.requests[0].args) == 29 and probe.requests[0].args[28].startswith("argument-029-")
    assert server.errors_total == 0
    await peer.close()


async def test_empty_header_block_is_refused(start_server: StartServer) -> None:
    probe = Probe()
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port, headers=None)
    await peer.send("", "agi_network: yes", "")
    assert await peer.read_until_closed() == b""
    await wait_idle(server)
    assert server.errors_total == 1 and not probe.started.is_set()


async def test_close_with_session_in_progress(start_server: StartServer) -> None:
    probe = Probe(lambda ch: ch.get_data("crisis/menu", 5000, 1))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await peer.expect_command()
    assert server.active_sessions == 1
    started = time.monotonic()
    await asyncio.wait_for(server.close(), 1.0)
    assert time.monotonic() - started < 1.0
    assert isinstance(probe.error, asyncio.CancelledError)
    assert server.active_sessions == 0
    assert server.errors_total == 0  # cancellation is not a handler failure
    assert await peer.read_until_closed() == b""


async def test_a_graceful_close_refuses_new_calls_and_lets_running_ones_finish(
    start_server: StartServer,
) -> None:
    probe = Probe(lambda ch: ch.get_data("crisis/menu", 5000, 1))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await peer.expect_command()
    port = server.port
    closing = asyncio.create_task(server.close(grace=5.0))
    await asyncio.sleep(0.05)
    with pytest.raises(OSError):  # a new call: refused at once, so the dialplan takes its fallback
        await asyncio.open_connection("127.0.0.1", port)
    await peer.send("200 result=1")  # the caller in the menu presses 1 and the session ends
    assert await asyncio.wait_for(closing, 2.0) == 0
    assert probe.error is None and probe.result == DigitsResult(digits="1", timed_out=False)


async def test_a_graceful_close_cuts_a_session_that_outlasts_its_grace(start_server: StartServer) -> None:
    probe = Probe(lambda ch: ch.get_data("crisis/menu", 5000, 1))
    server = await start_server(probe)
    peer = await FakeAsterisk.connect(server.port)
    await peer.expect_command()
    started = time.monotonic()
    assert await asyncio.wait_for(server.close(grace=0.3), 2.0) == 1
    assert 0.3 <= time.monotonic() - started < 1.5
    assert isinstance(probe.error, asyncio.CancelledError)


async def test_the_callers_number_becomes_a_count_and_is_not_kept() -> None:
    reader = asyncio.StreamReader()
    reader.feed_data(
        f"agi_network_script: ivr\nagi_callerid: {SYNTHETIC_CALLER}\nagi_uniqueid: 1.1\n\n".encode()
    )
    seen: list[str] = []

    def count(number: str) -> int:
        seen.append(number)
        return 3

    request = await read_request(reader, "127.0.0.1", 32, count)
    assert seen == [SYNTHETIC_CALLER] and request.repeat_count == 3
    assert SYNTHETIC_CALLER not in repr(request)
    reader.feed_data(b"agi_network_script: ivr\nagi_callerid: x\n\n")
    assert (await read_request(reader, "127.0.0.1", 32)).repeat_count is None  # no counter: dropped


async def test_listening_backlog_holds_a_burst_of_calls(start_server: StartServer) -> None:
    """asyncio's default backlog (100) would drop a burst of connections; ss shows ours."""
    server = await start_server(Probe())
    backlog, somaxconn = await asyncio.to_thread(_listen_backlog, server.port)
    assert backlog == min(1024, somaxconn) and backlog > 100


def _listen_backlog(port: int) -> tuple[int, int]:
    command = ["ss", "-ltnH", f"sport = :{port}"]
    listing = subprocess.run(command, capture_output=True, text=True, check=True).stdout.split()
    # State Recv-Q Send-Q ...: the Send-Q of a listening socket is its backlog
    return int(listing[2]), int(Path("/proc/sys/net/core/somaxconn").read_text())
