"""FastAGI sessions present the secret the dialplan passes, or no handler runs (issue 14, item 4)."""

from __future__ import annotations

import logging

import pytest

from core.refusals import RefusalLog
from tests.telephony.agi_peer import HEADERS, FakeAsterisk, Probe
from tests.telephony.conftest import StartServer, wait_idle

SECRET = "s3cret-s3cret-s3cret-0001"


def _headers(*args: str) -> dict[str, str]:
    """Headers as Asterisk sends them for AGI(url,<args>): agi_arg_1… in order."""
    headers = {k: v for k, v in HEADERS.items() if not k.startswith("agi_arg_")}
    headers.update({f"agi_arg_{n}": value for n, value in enumerate(args, start=1)})
    return headers


async def test_the_secret_lets_the_handler_run_and_is_removed_from_its_request(
    start_server: StartServer,
) -> None:
    probe = Probe()
    server = await start_server(probe, secret=SECRET)
    peer = await FakeAsterisk.connect(server.port, _headers(SECRET, "1700000000.42", "local"))
    await probe.finished()
    await peer.close()
    assert probe.requests[0].args == ("1700000000.42", "local")
    assert SECRET not in repr(probe.requests[0])
    assert server.refused_secrets.total == 0


@pytest.mark.parametrize(
    "args",
    [
        (),
        ("1700000000.42", "local"),
        ("wrong", "1700000000.42", "local"),
        (SECRET[:-1],),
        (SECRET + "x",),
        ("",),
    ],
)
async def test_a_session_without_the_secret_runs_no_handler_and_is_counted(
    start_server: StartServer, args: tuple[str, ...]
) -> None:
    probe = Probe()
    server = await start_server(probe, secret=SECRET)
    peer = await FakeAsterisk.connect(server.port, _headers(*args))
    assert await peer.read_until_closed() == b""  # not a single command
    await wait_idle(server)
    assert not probe.started.is_set()
    assert server.refused_secrets.total == 1


async def test_a_flood_of_refused_sessions_logs_one_line_without_the_values(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hotline.agi")
    probe = Probe()
    server = await start_server(probe, secret=SECRET)
    caplog.clear()  # "listening on port …"
    for n in range(50):
        peer = await FakeAsterisk.connect(server.port, _headers(f"guess-{n}", SECRET[:10]))
        await peer.read_until_closed()
    await wait_idle(server)
    assert server.refused_secrets.total == 50 and not probe.started.is_set()
    messages = [r.getMessage() for r in caplog.records]
    assert messages == ["FastAGI connection from 127.0.0.1 refused: missing or wrong secret"]
    assert not any("guess" in m or SECRET[:10] in m for m in messages)


async def test_a_flood_of_refused_peers_logs_one_line(
    start_server: StartServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="hotline.agi")
    server = await start_server(Probe(), allowed_peers=frozenset({"10.9.9.9"}), secret=SECRET)
    caplog.clear()
    for _ in range(50):
        peer = await FakeAsterisk.connect(server.port, headers=None)
        await peer.read_until_closed()
    assert server.refused_peers.total == 50
    assert len(caplog.records) == 1


def test_refusals_are_logged_first_then_as_a_count_once_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="hotline.agi")
    now = [0.0]
    log = RefusalLog("missing or wrong secret", interval=60, clock=lambda: now[0])
    for step in range(300):  # one refusal a second for five minutes
        now[0] = float(step)
        log.refused("127.0.0.1")
    messages = [r.getMessage() for r in caplog.records]
    assert messages[0] == "FastAGI connection from 127.0.0.1 refused: missing or wrong secret"
    assert messages[1:] == ["FastAGI: 60 more connections refused in 60 s: missing or wrong secret"] * 4
    assert log.total == 300
