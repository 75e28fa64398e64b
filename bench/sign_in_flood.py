"""What a flood of password guesses costs everyone else (issue 18): the time of an ordinary
authenticated read while an attacker sends wrong passwords, to sign-in and to the password
change of a stolen session, many at once.

    .venv/bin/python bench/sign_in_flood.py [--guesses 150] [--reads 60]

The service is the composition root's app (``hotline.app.Hotline``, SQLite in a temporary
directory) under uvicorn on a free port of 127.0.0.1, as it serves; the clients are httpx on
this machine. Baseline of the same run: the same reads with nobody guessing. Then the reads
again while ``--guesses`` wrong password changes (a stolen session of one person) and as many
wrong sign-ins (from one address) are in flight. Printed: p50 and p99 of the reads in each
phase and their ratio, how the guesses were answered, and how many password checks ran.
Every check of a password runs on one argon2 thread (agents/passwords.py); at most two wait
at once and an address gets ten failures a minute, so the guesses are answered 429 and the
reads should barely move.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from agents.directory import Role
from core.db import migrate
from hotline.app import Hotline
from tests.browser import free_port
from tests.conftest import make_settings

PASSWORD = "a long enough passphrase"


def serve(app: Hotline) -> tuple[str, uvicorn.Server]:
    port = free_port()
    config = uvicorn.Config(app.app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    server = uvicorn.Server(config)
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    return f"http://127.0.0.1:{port}", server


async def sign_in(client: httpx.AsyncClient, who: str) -> dict[str, str]:
    answer = await client.post("/api/session", json={"id": who, "password": PASSWORD})
    answer.raise_for_status()
    return {
        "Cookie": f"hotline_session={answer.cookies['hotline_session']}",
        "X-CSRF-Token": answer.json()["csrf"],
    }


async def reads(client: httpx.AsyncClient, headers: dict[str, str], count: int) -> list[float]:
    took = []
    for _ in range(count):
        began = time.perf_counter()
        answer = await client.get("/api/operators/op-reader", headers=headers)
        took.append(time.perf_counter() - began)
        assert answer.status_code == 200, answer.text
        await asyncio.sleep(0.02)
    return took


def p(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))] * 1000


async def main(guesses: int, count: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="sign-in-flood-"))
    hotline = Hotline(make_settings(tmp, asterisk=[{"name": "local", "ami_secret": "s" * 24}]))
    migrate(hotline.engine)
    for who in ("op-reader", "op-victim"):
        hotline.directory.create(who, who, Role.OPERATOR, {})
        hotline.people.accounts.set_password(who, PASSWORD)
    url, server = serve(hotline)
    try:
        async with (
            httpx.AsyncClient(base_url=url, timeout=120) as reader,
            httpx.AsyncClient(
                base_url=url, timeout=120, limits=httpx.Limits(max_connections=2 * guesses)
            ) as attacker,
        ):
            mine = await sign_in(reader, "op-reader")
            stolen = await sign_in(attacker, "op-victim")
            baseline = await reads(reader, mine, count)
            answers: collections.Counter[int] = collections.Counter()

            async def change() -> None:
                body = {"current": "a wrong guess!", "new": "another passphrase"}
                answers[
                    (await attacker.put("/api/session/password", json=body, headers=stolen)).status_code
                ] += 1

            async def guess() -> None:
                body = {"id": "op-victim", "password": "a wrong guess!"}
                answers[(await attacker.post("/api/session", json=body)).status_code] += 1

            flood = [asyncio.create_task(f()) for _ in range(guesses) for f in (change, guess)]
            await asyncio.sleep(0.05)
            loaded = await reads(reader, mine, count)
            await asyncio.gather(*flood)
    finally:
        server.should_exit = True
        hotline.engine.dispose()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"reads alone:      p50 {p(baseline, 0.5):7.1f} ms  p99 {p(baseline, 0.99):7.1f} ms  (n={count})")
    print(f"reads under flood: p50 {p(loaded, 0.5):7.1f} ms  p99 {p(loaded, 0.99):7.1f} ms")
    median, tail = p(loaded, 0.5) / p(baseline, 0.5), p(loaded, 0.99) / p(baseline, 0.99)
    print(f"ratio:            p50 x{median:.2f}  p99 x{tail:.2f}")
    print(f"guesses ({2 * guesses}): " + ", ".join(f"{n} answered {s}" for s, n in sorted(answers.items())))
    print(f"mean read under flood {statistics.mean(loaded) * 1000:.1f} ms")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guesses", type=int, default=150)
    parser.add_argument("--reads", type=int, default=60)
    args = parser.parse_args()
    asyncio.run(main(args.guesses, args.reads))
