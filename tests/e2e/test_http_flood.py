"""Nothing an HTTP client does reaches the callers (issue 14, item 1). The service runs with 1,024
open files, soft and hard (the limit under which 1,100 half-open requests once took every
descriptor). The same four real calls go through the IVR three times: alone, while 2,000
half-open HTTP connections from 20 addresses are held and renewed, and while ten clients send
50 MB bodies over and over. Each time every call is routed as alone, a FastAGI probe is answered
within 1 s throughout, the service's descriptors stay within HTTP's share, its memory does not
grow with the bodies, and its log by a few lines at most."""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import os
import resource
import threading
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
import pytest

from core.settings import Settings
from hotline.front import RESERVED_FDS
from tests.e2e.calls import place, plan, records
from tests.e2e.conftest import HTTP_PORT, Service

pytestmark = pytest.mark.asterisk

OPEN_FILES = 1024
HALF_OPEN = 2000
SOURCES = [f"127.0.0.{n}" for n in range(2, 22)]  # 20 addresses, 100 connections each
MB = 1024 * 1024
# (language, topic, queue, outcome) of each call, the same in every round
CALLS = ("21", "13", "14", "221")


@dataclass
class Pressure:
    """What runs beside the calls, in its own thread and loop."""

    work: Callable[[asyncio.Event], Coroutine[Any, Any, None]]
    probes: list[float] = field(default_factory=list)  # FastAGI answer times, seconds
    fds: list[int] = field(default_factory=list)  # the service's open descriptors, sampled

    def run(self, settings: Settings, pid: int, during: Callable[[], None]) -> None:
        """The pressure in a process of its own (its load must not slow the probe down), the
        probe and the sampler in a thread, ``during`` (the calls) here."""
        stopping = multiprocessing.Event()
        attacker = multiprocessing.Process(target=_attack, args=(self.work, stopping), daemon=True)
        attacker.start()
        stop = asyncio.Event()
        loop = asyncio.new_event_loop()

        async def watch() -> None:
            await asyncio.gather(self._probe(settings, stop), self._sample(pid, stop))

        thread = threading.Thread(target=loop.run_until_complete, args=(watch(),))
        thread.start()
        try:
            time.sleep(3)  # the pressure is on before the first call
            during()
        finally:
            loop.call_soon_threadsafe(stop.set)
            stopping.set()
            thread.join(60)
            attacker.join(60)
            if attacker.is_alive():
                attacker.kill()

    async def _probe(self, settings: Settings, stop: asyncio.Event) -> None:
        """A FastAGI request without the secret, five times a second: the service reads it and
        hangs up, which it can only do when its loop and a descriptor are free."""
        request = b"agi_network: yes\nagi_network_script: ivr\nagi_uniqueid: 1.1\n\n"
        while not stop.is_set():
            began = time.monotonic()
            try:
                async with asyncio.timeout(10):
                    reader, writer = await asyncio.open_connection("127.0.0.1", settings.agi.port)
                    writer.write(request)
                    await reader.read()
                    writer.close()
            except (TimeoutError, OSError):
                pass  # counted as slow: 10 s
            self.probes.append(time.monotonic() - began)
            await asyncio.sleep(0.2)

    async def _sample(self, pid: int, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(OSError):
                self.fds.append(len(os.listdir(f"/proc/{pid}/fd")))
            await asyncio.sleep(0.1)


def _attack(work: Callable[[asyncio.Event], Coroutine[Any, Any, None]], stopping: Any) -> None:
    """The attacker's process: ``work`` until the test sets ``stopping``."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)  # it holds 2,000 sockets
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))

    async def main() -> None:
        stop = asyncio.Event()
        running = asyncio.ensure_future(work(stop))
        await asyncio.to_thread(stopping.wait)
        stop.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(running, 20)

    asyncio.run(main())


async def half_open(stop: asyncio.Event) -> None:
    """2,000 requests that never finish their head, each renewed when the service drops it."""

    async def one(source: str) -> None:
        while not stop.is_set():
            try:
                async with asyncio.timeout(15):
                    reader, writer = await asyncio.open_connection(
                        "127.0.0.1", HTTP_PORT, local_addr=(source, 0)
                    )
                    writer.write(b"GET /healthz HTTP/1.1\r\nHost: hotline\r\n")
                    await reader.read()  # until the service closes or resets it
                    writer.close()
            except (TimeoutError, OSError):
                await asyncio.sleep(0.05)

    await asyncio.gather(*(one(SOURCES[n % len(SOURCES)]) for n in range(HALF_OPEN)))


def big_bodies(token: str) -> Callable[[asyncio.Event], Coroutine[Any, Any, None]]:
    """Ten clients sending 50 MB bodies, again and again: anonymous with a Content-Length,
    anonymous chunked, with the admin token chunked (read up to the cap), and with the token and
    a Content-Length."""
    heads = [
        b"Content-Length: 52428800\r\n",
        b"Transfer-Encoding: chunked\r\n",
        f"Authorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\n".encode(),
        f"Authorization: Bearer {token}\r\nContent-Length: 52428800\r\n".encode(),
    ]

    async def one(head: bytes, stop: asyncio.Event) -> None:
        chunked = b"chunked" in head
        piece = b"x" * MB
        framed = b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece
        while not stop.is_set():
            try:
                async with asyncio.timeout(30):
                    reader, writer = await asyncio.open_connection("127.0.0.1", HTTP_PORT)
                    writer.write(
                        b"POST /api/operators HTTP/1.1\r\nHost: hotline\r\nContent-Type: application/json\r\n"
                        + head
                        + b"\r\n"
                    )
                    for _ in range(50):
                        writer.write(framed)
                        await writer.drain()
                    await reader.read()
                    writer.close()
            except (TimeoutError, OSError):
                await asyncio.sleep(0.05)

    async def work(stop: asyncio.Event) -> None:
        await asyncio.gather(*(one(heads[n % len(heads)], stop) for n in range(10)))

    return work


def _status(pid: int, key: str) -> int:
    """A /proc/<pid>/status figure in kB."""
    with open(f"/proc/{pid}/status", encoding="ascii") as f:
        for line in f:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise AssertionError(key)


def _lines(settings: Settings) -> list[str]:
    assert settings.log_file is not None
    return settings.log_file.read_text(errors="replace").splitlines()


def _ivr_seconds(record: dict[str, Any]) -> float:
    began, ended = record["started_at"], record["ivr_ended_at"]
    return (datetime.fromisoformat(ended) - datetime.fromisoformat(began)).total_seconds()


@dataclass
class Round:
    routes: list[tuple[str, str, str, str]]
    ivr_seconds: list[float]
    log_lines: list[str]


def _round(service: Service, settings: Settings, base: int, pressure: Pressure | None) -> Round:
    before = {r["id"] for r in records(service, 0)}
    lines = len(_lines(settings))

    def calls() -> None:
        place(settings, [plan(digits) for digits in CALLS], base=base)

    if pressure is None:
        calls()
    else:
        assert service.proc is not None
        pressure.run(settings, service.proc.pid, calls)
    got = sorted(
        (r for r in records(service, len(before) + len(CALLS), timeout=40) if r["id"] not in before),
        key=lambda r: str(r["topic"]),
    )
    return Round(
        [(r["language"], r["topic"], r["queue"], r["outcome"]) for r in got],
        [_ivr_seconds(r) for r in got],
        _lines(settings)[lines:],
    )


def test_an_http_flood_does_not_reach_the_callers(service: Service, e2e_settings: Settings) -> None:
    service.stop()
    service.start(open_files=OPEN_FILES)
    try:
        assert service.proc is not None
        pid = service.proc.pid
        alone = _round(service, e2e_settings, 28300, None)
        assert len(alone.routes) == len(CALLS) and all(r[3] == "answered" for r in alone.routes), alone
        rss_before, peak_before = _status(pid, "VmRSS"), _status(pid, "VmHWM")

        held = Pressure(half_open)
        flooded = _round(service, e2e_settings, 28500, held)
        bodies = Pressure(big_bodies(service.token))
        sent = _round(service, e2e_settings, 28700, bodies)
        peak_after = _status(pid, "VmHWM")

        refused = _refusals(service)
        print(
            f"\nalone: IVR {alone.ivr_seconds}, log +{len(alone.log_lines)}"
            f"\nhalf-open: IVR {flooded.ivr_seconds}, probes max {max(held.probes):.3f} s of "
            f"{len(held.probes)}, fds max {max(held.fds)}, log +{len(flooded.log_lines)}"
            f"\nbodies: IVR {sent.ivr_seconds}, probes max {max(bodies.probes):.3f} s of "
            f"{len(bodies.probes)}, fds max {max(bodies.fds)}, log +{len(sent.log_lines)}"
            f"\nmemory: RSS {rss_before} kB before, peak {peak_before} -> {peak_after} kB; refused {refused}"
        )
        for under in (flooded, sent):
            assert under.routes == alone.routes
            assert max(under.ivr_seconds) <= max(alone.ivr_seconds) + 1.0, (
                under.ivr_seconds,
                alone.ivr_seconds,
            )
            assert len(under.log_lines) <= len(alone.log_lines) + 4, under.log_lines
        for pressure in (held, bodies):
            assert len(pressure.probes) >= 30 and max(pressure.probes) < 1.0, sorted(pressure.probes)[-5:]
            assert max(pressure.fds) <= OPEN_FILES - RESERVED_FDS, max(pressure.fds)
        assert peak_after - max(peak_before, rss_before) < 64 * 1024, (peak_before, peak_after)
        # The floods did reach the service's limits: no test of an unpressed service.
        assert refused["per_peer"] + refused["connections"] > 1000 and refused["header_timeout"] > 0, refused
        assert not any("out of descriptors" in line for line in flooded.log_lines + sent.log_lines)
    finally:
        service.stop()  # the next test starts it again, with the usual limits


def _refusals(service: Service) -> dict[str, float]:
    text = httpx.get(f"{service.url}/metrics/", timeout=10).text
    out: dict[str, float] = {}
    for line in text.splitlines():
        if line.startswith('hotline_refused_connections_total{port="http"'):
            reason = line.split('reason="')[1].split('"')[0]
            out[reason] = float(line.rsplit(" ", 1)[1])
    return out
