"""The real thing: the sandbox Asterisk 22, the hotline service as its own process, sipp callers.

Needs root (chroot, mounts) and sipp. Outside CI a machine without them skips these tests;
in CI (CI=true) a missing prerequisite fails the run instead.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import yaml

from hotline.sandbox import Sandbox
from hotline.settings import Settings, load_settings
from tests.conftest import ROOT

HTTP_PORT = 18080
HOLD_SECONDS = 3


def _require_real_asterisk() -> None:
    missing = [
        what for what, ok in (("root", os.geteuid() == 0), ("sipp", shutil.which("sipp"))) if not ok
    ]
    if missing:
        reason = f"real-Asterisk tests need {', '.join(missing)}"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


@pytest.fixture(scope="session")
def e2e_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_real_asterisk()
    tmp = tmp_path_factory.mktemp("e2e")
    data = yaml.safe_load((ROOT / "hotline.yaml").read_text(encoding="utf-8"))
    data.update(
        var_dir=str(tmp / "var"),
        database_url=f"sqlite:///{tmp / 'var' / 'hotline.sqlite3'}",
        log_file=str(tmp / "var" / "log" / "hotline.log"),
        agi={"host": "127.0.0.1", "port": 14573},
        http={"host": "127.0.0.1", "port": HTTP_PORT},
    )
    data["asterisk"][0]["ami_port"] = 15038
    data["menu"]["timeout_seconds"] = 2
    data["sandbox"] = {
        "directory": str(tmp / "sandbox"),
        "sip_port": 15060,
        "rtp_start": 11000,
        "rtp_end": 11999,
        "simulated_operators": 2,
        "simulated_hold_seconds": HOLD_SECONDS,
    }
    path = tmp / "hotline.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def e2e_settings(e2e_config: Path) -> Settings:
    return load_settings(e2e_config)


@pytest.fixture(scope="session")
def sandbox(e2e_settings: Settings) -> Iterator[Sandbox]:
    box = Sandbox(e2e_settings)
    box.up()
    yield box
    box.down()


@dataclass
class Service:
    config: Path
    log_file: Path
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{HTTP_PORT}"

    def start(self, timeout: float = 30) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hotline.cli", "--config", str(self.config), "serve"],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_file.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise AssertionError("hotline service did not become healthy")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


@pytest.fixture(scope="session")
def service(e2e_config: Path, e2e_settings: Settings, sandbox: Sandbox) -> Iterator[Service]:
    # The service's own stdout/stderr, every line of it, is scanned later for caller numbers.
    svc = Service(e2e_config, e2e_settings.var_dir / "log" / "service-output.log")
    yield svc
    svc.stop()
