"""AMI-event-to-browser latency of the wallboard (issue 6): p50, p95 and max.

    .venv/bin/python bench/wallboard_latency.py [--events 200] [--gap 0.1] [--background 0]

Synthetic events, not the sandbox Asterisk: a fake Asterisk in this process speaks AMI over real
TCP (banner, Login, QueueStatus, Ping) to the service, which runs as its own process built by the
composition root (``hotline.app.Hotline``: AmiNode with panoramisk, the event fanout with every
consumer of the service, the wallboard, the FastAPI app under uvicorn). Headless Chromium shows
``/wallboard/`` and records every redraw in ``window.wallboardLog``. Why synthetic: the instant
each event is written is known exactly, hundreds of events take seconds, and the sandbox lock is
not needed; what it leaves out is Asterisk's own delay between a caller joining and the event
leaving Asterisk, which is not the wallboard's (tests/e2e/test_wallboard.py measures the real
thing, end to end, against Asterisk's event timestamps, for a handful of events).

Every measured event is a ``QueueCallerJoin`` to queue ``main`` (waiting: 1, 2, ... N), written
``--gap`` seconds apart (+-20 %), so each redraw tells which event it shows. Latency = first
redraw (Chromium's ``Date.now()``) or first SSE frame showing that count, minus the instant the
event was written to the socket (``time.time()``; one machine, one clock). Baseline of the same
run: a bare SSE client (httpx on a thread of its own, no browser) subscribed to the same stream.
``--background R`` adds R other events per second (joins and leaves in other queues, no count
of ``main``) to show the cost of a busy line; the service coalesces pushes 20 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any, Final

import httpx
import yaml

ROOT: Final = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from agents.auth import COOKIE  # noqa: E402
from core.settings import bootstrap_password, load_settings  # noqa: E402

ADMIN: Final = "admin"  # the first admin, made at the service's start
HTTP_PORT: Final = 16180  # own ports: tests use 18080, ivr_sandbox 16080, `make run` 8080
QUEUE: Final = "main"
OTHER_QUEUES: Final = ("crisis", "loss", "violence")
EOL: Final = "\r\n"


# -- the fake Asterisk ------------------------------------------------------------------------------
class FakeAmi:
    """Just enough AMI for one AmiNode: Login accepted, an empty QueueStatus, Ping."""

    def __init__(self) -> None:
        self.writer: asyncio.StreamWriter | None = None
        self.resynced = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._seq = 0

    async def start(self) -> int:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        port: int = self._server.sockets[0].getsockname()[1]
        return port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()

    def send(self, name: str, queue: str, *fields: str) -> float:
        """Write one event; the instant it went to the socket (epoch seconds)."""
        assert self.writer is not None
        self._seq += 1
        at = time.time()
        head = [f"Event: {name}", "Privilege: agent,all", f"Timestamp: {at:.6f}", f"Queue: {queue}"]
        ids = [f"Uniqueid: 1795000000.{self._seq}", f"Linkedid: 1795000000.{self._seq}"]
        self.writer.write((EOL.join([*head, *ids, *fields]) + EOL + EOL).encode())
        return at

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"Asterisk Call Manager/9.0.0\r\n")
        try:
            while True:
                block = (await reader.readuntil(b"\r\n\r\n")).decode()
                headers = dict(line.split(": ", 1) for line in block.split(EOL) if ": " in line)
                writer.write(self._answer(headers).encode())
                if headers.get("Action", "").lower() == "login":
                    self.writer = writer
                elif headers.get("Action", "").lower() == "queuestatus":
                    self.resynced.set()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass

    @staticmethod
    def _answer(action: dict[str, str]) -> str:
        name, action_id = action.get("Action", "").lower(), action.get("ActionID", "")
        if name == "queuestatus":
            start = f"Response: Success{EOL}ActionID: {action_id}{EOL}EventList: start{EOL}{EOL}"
            done = f"Event: QueueStatusComplete{EOL}ActionID: {action_id}{EOL}EventList: Complete{EOL}"
            return start + done + f"ListItems: 0{EOL}{EOL}"
        if name in ("login", "ping"):
            return f"Response: Success{EOL}ActionID: {action_id}{EOL}Message: ok{EOL}{EOL}"
        return f"Response: Error{EOL}ActionID: {action_id}{EOL}Message: not in this bench{EOL}{EOL}"


# -- the service, as its own process --------------------------------------------------------------
def write_settings(tmp: Path, ami_port: int) -> Path:
    data = yaml.safe_load((ROOT / "hotline.yaml").read_text(encoding="utf-8"))
    data.update(
        var_dir=str(tmp / "var"),
        database_url=f"sqlite:///{tmp / 'var' / 'hotline.sqlite3'}",
        log_level="WARNING",
        log_file=str(tmp / "var" / "log" / "hotline.log"),
        http={"host": "127.0.0.1", "port": HTTP_PORT},
        ivr_seed=str(ROOT / "hotline-ivr.yaml"),
        prompts_dir=str(tmp / "sounds"),
    )
    data["asterisk"][0]["ami_port"] = ami_port
    data["asterisk"][0]["ami_host"] = "127.0.0.1"
    path = tmp / "hotline.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


async def serve(config: Path) -> None:
    """The service's event path and HTTP app, without FastAGI and the IVR (no Asterisk to
    publish to): AMI nodes, the wallboard's tick, uvicorn."""
    import uvicorn

    from core.db import migrate
    from hotline.accounts_wiring import first_admin
    from hotline.app import Hotline

    hotline = Hotline(load_settings(config))
    await asyncio.to_thread(migrate, hotline.engine)
    await asyncio.to_thread(first_admin, hotline.settings, hotline.directory, hotline.people.accounts)
    tasks = [asyncio.create_task(node.run()) for node in hotline.nodes]
    tasks.append(asyncio.create_task(hotline.wallboard.run()))
    http = hotline.settings.http
    config_ = uvicorn.Config(
        hotline.app,
        host=http.host,
        port=http.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=2,
    )
    await uvicorn.Server(config_).serve()
    for task in tasks:
        task.cancel()


def start_service(config: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, __file__, "--serve", str(config)], cwd=ROOT)


def stop_service(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


async def wait_healthy(url: str, proc: subprocess.Popen[bytes], within: float = 60) -> None:
    deadline = time.monotonic() + within
    async with httpx.AsyncClient() as client:
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise SystemExit(f"the service exited with {proc.returncode}")
            try:
                if (await client.get(f"{url}/healthz", timeout=1)).status_code in (200, 503):
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.2)
    raise SystemExit("the service did not answer /healthz")


async def reading_token(url: str, password: str) -> str:
    """A machine's token that reads the wallboard, made by the first admin signed in (the
    session's cookie is Secure: sent by hand over http)."""
    async with httpx.AsyncClient(base_url=url) as client:
        signed = await client.post("/api/session", json={"id": ADMIN, "password": password})
        signed.raise_for_status()
        cookie = signed.headers["set-cookie"].split(";", 1)[0]
        assert cookie.startswith(f"{COOKIE}=")
        headers = {"Cookie": cookie, "X-CSRF-Token": signed.json()["csrf"]}
        body = {"name": "wallboard-bench", "scopes": ["wallboard:read"], "days": 1}
        made = await client.post("/api/tokens", json=body, headers=headers)
        made.raise_for_status()
        token: str = made.json()["token"]
        return token


# -- the two observers ----------------------------------------------------------------------------
class SseClient(threading.Thread):
    """The bare push: frames of /api/wallboard/stream as they arrive, (epoch s, waiting)."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.frames: list[tuple[float, int]] = []
        self.ready = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        stream = f"{self.url}/api/wallboard/stream"
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.stream("GET", stream, headers=headers, timeout=None) as res,
        ):
            for line in res.iter_lines():
                if line.startswith("data: "):
                    at = time.time()
                    queues = json.loads(line[6:])["queues"]
                    self.frames.append((at, next((q["waiting"] for q in queues if q["queue"] == QUEUE), 0)))
                    self.ready.set()  # the service stopping ends the stream: suppressed above


async def open_wallboard(playwright: Any, url: str, password: str) -> tuple[Any, Any]:
    browser = await playwright.chromium.launch(
        executable_path="/usr/bin/chromium",
        args=["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"],
    )
    page = await browser.new_page()
    await page.goto(f"{url}/wallboard/")
    await page.fill("#sign-in-id", ADMIN)  # signs in as a shift lead or an admin would
    await page.fill("#sign-in-password", password)
    await page.click("#sign-in button[type=submit]")
    # Polled with evaluate: wait_for_function evaluates its string in the page, which the
    # page's Content-Security-Policy (script-src 'self') refuses.
    deadline = time.monotonic() + 30
    while not await page.evaluate("window.wallboardLog?.length ?? 0"):
        if time.monotonic() > deadline:
            raise SystemExit("the wallboard drew nothing within 30 s (signed in?)")
        await asyncio.sleep(0.05)
    return browser, page


TAKE_LOG: Final = "window.wallboardLog.splice(0)"  # the page keeps 500 redraws: take them often


async def drain_log(page: Any, into: list[dict[str, Any]]) -> None:
    while True:
        await asyncio.sleep(1.0)
        into += await page.evaluate(TAKE_LOG)


# -- the run --------------------------------------------------------------------------------------
async def feed(ami: FakeAmi, events: int, gap: float, background: float) -> list[float]:
    """The measured joins (their send instants), with background events between them."""
    sent: list[float] = []
    noise = asyncio.create_task(churn(ami, background)) if background > 0 else None
    rng = random.Random(6)
    for n in range(1, events + 1):
        sent.append(ami.send("QueueCallerJoin", QUEUE, f"Position: {n}", f"Count: {n}"))
        await asyncio.sleep(gap * rng.uniform(0.8, 1.2))
    if noise is not None:
        noise.cancel()
    return sent


async def churn(ami: FakeAmi, rate: float) -> None:
    """``rate`` events/s in other queues: a join, later its leave (at most 5 waiting each)."""
    step, i = 0.01, 0
    while True:
        for _ in range(max(1, round(rate * step))):
            queue = OTHER_QUEUES[i % len(OTHER_QUEUES)]
            name = "QueueCallerJoin" if i % 10 < 5 else "QueueCallerLeave"
            ami.send(name, queue, "Position: 1", "Count: 1")
            i += 1
        await asyncio.sleep(step)


def latencies(sent: list[float], shown: list[tuple[float, int]]) -> list[float]:
    """Per event n (waiting n after it): the first observation of n after it was sent."""
    out = []
    for n, at in enumerate(sent, start=1):
        seen = [t for t, waiting in shown if waiting == n and t >= at - 0.005]
        if seen:
            out.append(seen[0] - at)
    return out


def summary(label: str, values: list[float], planned: int) -> str:
    ms = sorted(v * 1000 for v in values)
    if not ms:
        return f"{label:34s} nothing seen"
    p95 = ms[max(0, int(len(ms) * 0.95) - 1)]
    return (
        f"{label:34s} p50 {statistics.median(ms):6.1f} ms  p95 {p95:6.1f} ms  max {ms[-1]:6.1f} ms"
        f"  ({len(ms)}/{planned} seen)"
    )


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, int(len(ordered) * 0.95) - 1)]


async def run(args: argparse.Namespace) -> None:
    from playwright.async_api import async_playwright

    ami = FakeAmi()
    with tempfile.TemporaryDirectory(prefix="hotline-wallboard-bench-") as name:
        config = write_settings(Path(name), await ami.start())
        # Development: the first admin's password, made once under var/secrets; the service
        # makes its admin with it at start.
        password = bootstrap_password(load_settings(config))
        assert password is not None
        url = f"http://127.0.0.1:{HTTP_PORT}"
        proc = start_service(config)
        try:
            await wait_healthy(url, proc)
            await asyncio.wait_for(ami.resynced.wait(), 30)
            sse = SseClient(url, await reading_token(url, password))
            sse.start()
            async with async_playwright() as p:
                browser, page = await open_wallboard(p, url, password)
                await asyncio.to_thread(sse.ready.wait, 10)
                log: list[dict[str, Any]] = []
                drain = asyncio.create_task(drain_log(page, log))
                sent = await feed(ami, args.events, args.gap, args.background)
                await asyncio.sleep(1.5)
                drain.cancel()
                log += await page.evaluate(TAKE_LOG)
                await browser.close()
            report(args, sent, sse.frames, [(e["at"] / 1000, e["queues"].get(QUEUE, 0)) for e in log])
        finally:
            await asyncio.to_thread(stop_service, proc)
            await ami.close()


def report(args: argparse.Namespace, sent: list[float], frames: list[Any], redraws: list[Any]) -> None:
    bare, browser = latencies(sent, frames), latencies(sent, redraws)
    print(
        f"{args.events} QueueCallerJoin events {args.gap * 1000:.0f} ms apart (+-20 %), "
        f"background {args.background:g} events/s; target: within 1 s"
    )
    print(summary("baseline: bare SSE client", bare, len(sent)))
    print(summary("wallboard redrawn in Chromium", browser, len(sent)))
    if bare and browser:
        print(f"ratio (p95): {p95(browser) / p95(bare):.2f}x the bare SSE push")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200, help="measured events")
    parser.add_argument("--gap", type=float, default=0.1, help="seconds between measured events")
    parser.add_argument("--background", type=float, default=0.0, help="other AMI events per second")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # the service process
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve))
        return
    if args.events < 1 or args.gap <= 0 or args.background < 0:
        parser.error("--events: 1 or more; --gap: above 0; --background: 0 or more")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()
