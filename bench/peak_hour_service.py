"""The hotline service as its own process (as tests/e2e/conftest.py's Service runs it), the
wallboard's SSE stream as a shift lead's page receives it, and what /proc says of a process."""

from __future__ import annotations

import bisect
import contextlib
import json
import os
import re
import resource
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import httpx
from peak_hour_line import HTTP_PORT, PROBE_QUEUE, ROOT, BenchError

from agents.auth import COOKIE

ADMIN: Final = "admin"  # the first admin, made by the service at its first start (development)
_METRIC: Final = re.compile(r'^hotline_ami_events_total\{node="([^"]+)"\} ([0-9.e+]+)$', re.M)


@dataclass(frozen=True)
class Sample:
    """A process's CPU seconds (all threads) and resident memory (MB) at one moment."""

    cpu: float
    rss_mb: float


def sample(pid: int | None) -> Sample | None:
    if pid is None:
        return None
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except (OSError, IndexError):
        return None
    cpu = (int(stat[11]) + int(stat[12])) / os.sysconf("SC_CLK_TCK")
    rss = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return Sample(cpu, rss / 1024)


def own_sample() -> Sample:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return Sample(usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)


class Service:
    """``python -m hotline.cli --config <tmp>/hotline.yaml serve``, its output in the var dir."""

    def __init__(self, config: Path, var_dir: Path) -> None:
        self.config, self.var_dir = config, var_dir
        self.url = f"http://127.0.0.1:{HTTP_PORT}"
        self.proc: subprocess.Popen[bytes] | None = None
        self.token = ""  # from reading_token()

    @property
    def pid(self) -> int | None:
        return self.proc.pid if self.proc is not None and self.proc.poll() is None else None

    def start(self, timeout: float = 90) -> None:
        log = self.var_dir / "log" / "service-output.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hotline.cli", "--config", str(self.config), "serve"],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches the bench only; the bench stops it
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = log.read_text(errors="replace")[-2000:]
                raise BenchError(f"the service exited with {self.proc.returncode}:\n{tail}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            time.sleep(0.3)
        raise BenchError(f"the service did not answer /healthz within {timeout:.0f} s (see {log})")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    def reading_token(self) -> str:
        """A machine's token that reads the wallboard and the metrics, made by the first admin
        (the session's cookie is Secure: sent back by hand over http)."""
        password = (self.var_dir / "secrets" / "admin-password").read_text(encoding="utf-8").strip()
        with httpx.Client(base_url=self.url, timeout=30) as client:
            signed = client.post("/api/session", json={"id": ADMIN, "password": password})
            signed.raise_for_status()
            cookie = signed.headers["set-cookie"].split(";", 1)[0]
            if not cookie.startswith(f"{COOKIE}="):
                raise BenchError("signing in as the first admin gave no session cookie")
            headers = {"Cookie": cookie, "X-CSRF-Token": signed.json()["csrf"]}
            body = {"name": "peak-hour-bench", "scopes": ["wallboard:read", "metrics:read"], "days": 1}
            made = client.post("/api/tokens", json=body, headers=headers)
            made.raise_for_status()
            self.token = made.json()["token"]
            return self.token

    def ami_events(self) -> dict[str, float]:
        """hotline_ami_events_total per node, from /metrics ({} when it cannot be read)."""
        with contextlib.suppress(httpx.HTTPError):
            headers = {"Authorization": f"Bearer {self.token}"}
            text = httpx.get(f"{self.url}/metrics/", headers=headers, timeout=10, follow_redirects=True).text
            return {node: float(value) for node, value in _METRIC.findall(text)}
        return {}


class WallboardStream(threading.Thread):
    """Frames of /api/wallboard/stream as they arrive: (epoch s, probe queue waiting), and
    how many frames and bytes came."""

    def __init__(self, url: str, token: str) -> None:
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.frames: list[tuple[float, int]] = []
        self.count = 0
        self.bytes = 0
        self.ready = threading.Event()
        self._stop = threading.Event()

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with (
            contextlib.suppress(httpx.HTTPError),
            httpx.stream("GET", f"{self.url}/api/wallboard/stream", headers=headers, timeout=None) as res,
        ):
            for line in res.iter_lines():
                if not line.startswith("data: "):
                    continue
                at = time.time()
                queues = json.loads(line[6:])["queues"]
                waiting = next((q["waiting"] for q in queues if q["queue"] == PROBE_QUEUE), 0)
                self.frames.append((at, waiting))
                self.count += 1
                self.bytes += len(line)
                self.ready.set()
                if self._stop.is_set():
                    return

    def stop(self) -> None:
        self._stop.set()


def wallboard_latencies(
    events: list[tuple[float, int]], frames: list[tuple[float, int]], within: float = 60.0
) -> list[float]:
    """Per probe event (Asterisk's Timestamp, the probe queue's count after it), the first frame
    received after it and within ``within`` seconds that shows that count: seconds. Events no
    frame shows in time are left out (the caller prints seen / sent)."""
    times = [at for at, _ in frames]
    out: list[float] = []
    for at, waiting in sorted(events):
        for received, shown in frames[bisect.bisect_left(times, at) :]:
            if received - at > within:
                break
            if shown == waiting:
                out.append(received - at)
                break
    return out
