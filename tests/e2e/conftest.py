"""The real thing: the sandbox Asterisk 22, the hotline service as its own process, sipp callers.

Needs root (chroot, mounts) and sipp. Outside CI a machine without them skips these tests;
in CI (CI=true) a missing prerequisite fails the run instead.
"""

from __future__ import annotations

import os
import resource
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

from agents.auth import COOKIE
from agents.tokens import SCOPES
from core.settings import Settings, load_settings
from dialplan.live import live_document
from sandbox.asterisk import Sandbox
from tests.conftest import ROOT

# A second e2e run beside the first (`make test` runs the tests marked `beside` so) takes its
# own Asterisk, service and ports: every fixed port below is shifted by this offset.
PORT_OFFSET = int(os.environ.get("HOTLINE_E2E_PORT_OFFSET", "0"))
HTTP_PORT = 18080 + PORT_OFFSET
HOLD_SECONDS = 3
REFERRAL_PORT = 15090 + PORT_OFFSET
HERE = Path(__file__).resolve().parent
TWILIO_TOKEN = "e2e-twilio-auth-token"  # the account's, as Twilio signs webhooks with it
TWILIO_SIP_USER, TWILIO_SIP_PASSWORD = "twilio", "e2e-twilio-digest"
TWILIO_TLS_PORT = 15061 + PORT_OFFSET


def _require_real_asterisk() -> None:
    missing = [what for what, ok in (("root", os.geteuid() == 0), ("sipp", shutil.which("sipp"))) if not ok]
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
        agi={"host": "127.0.0.1", "port": 14573 + PORT_OFFSET},
        http={"host": "127.0.0.1", "port": HTTP_PORT},
    )
    data["asterisk"][0]["ami_port"] = 15038 + PORT_OFFSET
    data["asterisk"][0]["config_dir"] = str(tmp / "sandbox" / "etc")
    data["ivr_seed"] = str(HERE / "ivr.yaml")
    data["prompts_dir"] = str(tmp / "sandbox" / "sounds")
    data["referral_trunk"] = f"127.0.0.1:{REFERRAL_PORT}"
    # Callers on a Twilio number (tests/e2e/test_twilio_hand_over.py): Asterisk's endpoint for
    # Twilio is there for every test, known only by a hand-over's X-Hotline-Call.
    (tmp / "twilio-auth-token").write_text(TWILIO_TOKEN + "\n", encoding="utf-8")
    (tmp / "twilio-sip-password").write_text(TWILIO_SIP_PASSWORD + "\n", encoding="utf-8")
    cert, key = tmp / "twilio-tls.crt", tmp / "twilio-tls.key"  # a TLS transport for Twilio, self-signed
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    data["twilio"] = {
        "tls_port": TWILIO_TLS_PORT,
        "tls_cert_file": str(cert),
        "tls_key_file": str(key),
        "public_url": f"http://127.0.0.1:{HTTP_PORT}",
        "auth_token_file": str(tmp / "twilio-auth-token"),
        "sip_uri": f"sip:twilio@127.0.0.1:{15060 + PORT_OFFSET}",
        "sip_username": TWILIO_SIP_USER,
        "sip_password_file": str(tmp / "twilio-sip-password"),
        "line_number": "+48221234567",
    }
    data["sandbox"] = {
        "directory": str(tmp / "sandbox"),
        "sip_port": 15060 + PORT_OFFSET,
        "rtp_start": 11000 + PORT_OFFSET,
        "rtp_end": 11999 + PORT_OFFSET,
        "simulated_operators": 2,
        "simulated_hold_seconds": HOLD_SECONDS,
        "unstaffed_queues": ["quiet", "peer", "senior"],
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
    box.up(live_document(e2e_settings))
    yield box
    box.down()


ADMIN_ID = "admin"  # the first admin, made by the service at its first start (development)


@dataclass
class Service:
    config: Path
    log_file: Path
    proc: subprocess.Popen[bytes] | None = None
    # A machine's API token with every scope, made once the service first answers (the
    # admin signs in and makes it, as an admin would); what it does is recorded as ``actor``.
    token: str = ""
    actor: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{HTTP_PORT}"

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def start(self, timeout: float = 30, open_files: int | None = None) -> None:
        """``open_files``: the service's soft and hard RLIMIT_NOFILE (it cannot raise them)."""
        if self.proc is not None and self.proc.poll() is None:
            return
        self.log_file.parent.mkdir(parents=True, exist_ok=True)

        def limited() -> None:
            if open_files is not None:
                resource.setrlimit(resource.RLIMIT_NOFILE, (open_files, open_files))

        with self.log_file.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hotline.cli", "--config", str(self.config), "serve"],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=limited,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_file.read_text(errors="replace")[-3000:]
            try:
                if httpx.get(f"{self.url}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("hotline service did not become healthy")
        if not self.token:  # kept across restarts: it lives in the service's database
            self.token, self.actor = self._machine_token()
        # It works; and this process has seen it, so it is still taken while the database is
        # away or locked (agents/last_known.py; test_database_outage/_locked read /healthz).
        health = httpx.get(f"{self.url}/healthz", headers=self.admin, timeout=30)
        assert "asterisk" in health.json(), health.text

    @property
    def admin_password(self) -> str:
        """The first admin's password (development: made once under the var dir's secrets)."""
        var_dir = Path(yaml.safe_load(self.config.read_text(encoding="utf-8"))["var_dir"])
        return (var_dir / "secrets" / "admin-password").read_text(encoding="utf-8").strip()

    def _machine_token(self) -> tuple[str, str]:
        """The admin signs in over HTTP and makes a token of every scope; the token and the
        actor the audit trail and the records name for it. The session's cookie is Secure,
        which no Python cookie jar sends over http: it goes back by hand."""
        with httpx.Client(base_url=self.url, timeout=30) as client:
            signed = client.post("/api/session", json={"id": ADMIN_ID, "password": self.admin_password})
            assert signed.status_code == 200, signed.text
            cookie = signed.headers["set-cookie"].split(";", 1)[0]
            assert cookie.startswith(f"{COOKIE}="), cookie
            page = {"Cookie": cookie, "X-CSRF-Token": signed.json()["csrf"]}
            body = {"name": "e2e", "scopes": list(SCOPES), "days": 1}
            made = client.post("/api/tokens", json=body, headers=page)
            assert made.status_code == 201, made.text
            assert client.delete("/api/session", headers=page).status_code == 204
        about = made.json()["about"]
        return made.json()["token"], f"token:{about['name']}#{about['id'][:8]}"

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


_LAST = (
    "test_callers_reach_a_human_when_the_service_is_down",
    "test_the_installed_privacy_check_finds_no_number",
    "test_no_caller_number_reached_any_store",
    "test_no_caller_number_reached_any_store_beside",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The service-down test stops the service; the privacy check and scan must see every call
    first (the installed check's calls too)."""
    items.sort(key=lambda item: _LAST.index(item.name) + 1 if item.name in _LAST else 0)
