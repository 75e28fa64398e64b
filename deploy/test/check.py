"""The deploy test's checks from the host (deploy/test/run): synthetic SIP calls into the
containerised Asterisk, the records they leave (through the TLS proxy's API), the reports, and
the privacy scan of what the stack kept. Run with the project's virtualenv from the checkout:

    check.py calls FIRST COUNT      place COUNT calls from +7 900 000 FIRST…, wait for their records
    check.py count N                exactly N records
    check.py report                 print today's report and the records (JSON; compared after a restore)
    check.py scan FIRST LAST PATH…  look for the numbers FIRST…LAST in the files and the API
    check.py head                   the newest migration of this checkout
    check.py same A B               two reports' records and figures are equal (the fields both have)
    check.py registrar PORT USER PASSWORD_FILE   a SIP registrar for the trunk (digest, until killed)
    check.py sign-in TOKEN_FILE     the README's first sign-in as admin; a machine token into TOKEN_FILE
    check.py scoped TOKEN_FILE      a token of scope audit:read reads the audit log and no records

Environment: HOTLINE_TEST_URL (https://localhost:PORT), HOTLINE_TEST_PASSWORD_FILE (the first
admin's bootstrap password), HOTLINE_TEST_TOKEN_FILE (the API token the checks read with: the
previous version's admin token, then the machine token of sign-in), SSL_CERT_FILE (the proxy's
certificate), HOTLINE_TEST_SIP (address:port of Asterisk's SIP as the callers reach it),
HOTLINE_TEST_LOCAL_IP (the callers' own address), HOTLINE_TEST_VAR (scratch).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import secrets
import socket
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from agents.passwords import totp  # noqa: E402
from agents.tokens import SCOPES  # noqa: E402
from core.settings import load_settings  # noqa: E402
from privacy.scanner import Scanner  # noqa: E402
from sandbox.callgen import Callgen  # noqa: E402
from sandbox.privacy_check import DEFAULT_SHAPES, NAME, PrivacyCheck, PrivacyReport, plans_for  # noqa: E402

# Answered after "2" (English), then "1" (crisis) or "2" "3" (the topics, loss). Silence, hang-ups
# and referrals take the same path through the containers; the e2e suite covers them against the
# sandbox.
SHAPES = tuple(s for s in DEFAULT_SHAPES if s.hangup_after_ms is None and s.digits)


def _check(token: str | None = None) -> PrivacyCheck:
    """The checks' client of the API, with this token or HOTLINE_TEST_TOKEN_FILE's."""
    token = token or Path(os.environ["HOTLINE_TEST_TOKEN_FILE"]).read_text(encoding="utf-8").strip()
    var = Path(os.environ["HOTLINE_TEST_VAR"])
    settings = load_settings(ROOT / "hotline.yaml", var_dir=str(var))
    return PrivacyCheck(settings, timeout=90, url=os.environ["HOTLINE_TEST_URL"], token=token)


def calls(first: int, count: int) -> int:
    check = _check()
    before = check.record_ids()
    plans = plans_for(SHAPES, count, first)
    host, _, port = os.environ["HOTLINE_TEST_SIP"].rpartition(":")
    local = os.environ["HOTLINE_TEST_LOCAL_IP"]
    gen = Callgen(host, int(port), local_port_base=35200, media_port_base=35300, local_ip=local)
    result = asyncio.run(gen.place(plans, concurrency=count, rate=10, timeout_s=90))
    records = check.new_records(before, count, timeout=60)
    outcomes = sorted(r["outcome"] for r in records)
    print(f"calls {plans[0].number}…{plans[-1].number}: {result.successful} completed, "
          f"{result.failed} failed; {len(records)} new records {outcomes}")  # fmt: skip
    ok = result.successful == count and len(records) == count
    return 0 if ok and all(r["outcome"] == "answered" for r in records) else 1


def count(expected: int) -> int:
    got = len(_check().all_records())
    print(f"records: {got} (expected {expected})")
    return 0 if got == expected else 1


def report() -> int:
    check = _check()
    records = sorted(check.all_records(), key=lambda r: str(r["id"]))
    reports = _get(check, "/api/reports", {"start": records[0]["started_at"][:10] + "T00:00:00Z", "days": 1})
    print(json.dumps({"records": records, "report": reports}, sort_keys=True, indent=1))
    return 0


def _get(check: PrivacyCheck, path: str, params: dict[str, object]) -> object:
    status, body = check._get(path, {k: v for k, v in params.items() if k != "days"})
    if status != 200:
        raise SystemExit(f"GET {path}: HTTP {status}")
    return json.loads(body)


def scan(first: int, last: int, paths: list[str]) -> int:
    check = _check()
    numbers = [f"+7900000{n:04d}" for n in range(first, last + 1)]
    scanner = Scanner(numbers, (NAME,))
    report = PrivacyReport()
    report.findings += scanner.scan_files([Path(p) for p in paths])
    report.scanned["files"] = sum(1 for p in paths for f in Path(p).rglob("*") if f.is_file())
    report.findings += check._scan_http(scanner, report)
    planted = f"caller 8 (900) 000-{first // 100 % 100:02d}-{first % 100:02d}".encode()
    control = scanner.scan_bytes("control", planted)
    if not control:  # the scan would not see a number that is there
        print("the scanner missed a planted number: the scan proves nothing")
        return 1
    for line in report.lines()[2:]:
        print(line)
    return 0 if report.clean else 1


def _common(a: object, b: object) -> tuple[object, object]:
    """Both values cut to what both have: a newer version may add fields."""
    if isinstance(a, dict) and isinstance(b, dict):
        pairs = {k: _common(a[k], b[k]) for k in a.keys() & b.keys()}
        return {k: p[0] for k, p in pairs.items()}, {k: p[1] for k, p in pairs.items()}
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        pairs_ = [_common(x, y) for x, y in zip(a, b, strict=True)]
        return [p[0] for p in pairs_], [p[1] for p in pairs_]
    return a, b


def same(path_a: str, path_b: str) -> int:
    a, b = (json.loads(Path(p).read_text(encoding="utf-8")) for p in (path_a, path_b))
    left, right = _common(a, b)
    if left != right or len(a["records"]) != len(b["records"]):
        print(f"{path_a} and {path_b} differ")
        return 1
    print(f"same {len(a['records'])} records and report ({len(json.dumps(left))} bytes compared)")
    return 0


COPIED = ("via", "from", "call-id", "cseq")  # a reply's headers taken from the request


def _md5(text: str) -> str:
    return hashlib.md5(text.encode()).hexdigest()  # SIP digest is md5


def _sip_fields(head: list[str]) -> dict[str, str]:
    return {h.split(":", 1)[0].strip().lower(): h.split(":", 1)[1].strip() for h in head if ":" in h}


def _registrar_reply(head: list[str], user: str, password: str) -> tuple[str, list[str], str]:
    """Status, extra headers and what happened, for a REGISTER or an OPTIONS."""
    fields = _sip_fields(head[1:])
    if not head[0].startswith("REGISTER"):
        return "200 OK", [], ""
    auth = dict(re.findall(r'(\w+)="?([^",]*)"?', fields.get("authorization", "")))
    ha1 = _md5(f"{user}:provider:{password}")
    ha2 = _md5(f"REGISTER:{auth.get('uri', '')}")
    if auth.get("username") == user and auth.get("response") == _md5(f"{ha1}:{auth.get('nonce', '')}:{ha2}"):
        return "200 OK", [f"Contact: {fields.get('contact', '')};expires=600", "Expires: 600"], "registered"
    challenge = 'WWW-Authenticate: Digest realm="provider", nonce="hotlinetest", algorithm=MD5'
    return "401 Unauthorized", [challenge], "refused a wrong answer" if auth else "challenged"


def registrar(port: int, user: str, password_file: str) -> int:
    """The provider's registrar for the worked trunk example: challenges a REGISTER (digest,
    realm "provider"), accepts it when the answer matches USER and the password file, answers
    OPTIONS. Prints what happened to each REGISTER; logs no message."""
    password = Path(password_file).read_text(encoding="utf-8").strip()
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("0.0.0.0", port))
    while True:
        data, peer = sock.recvfrom(65535)
        head = data.decode(errors="replace").split("\r\n\r\n", 1)[0].split("\r\n")
        if not head[0].startswith(("REGISTER ", "OPTIONS ")):
            continue
        status, extra, what = _registrar_reply(head, user, password)
        if what:
            print(f"registrar: {what}", flush=True)
        to = _sip_fields(head[1:]).get("to", "")
        to += "" if "tag=" in to else ";tag=hotlinetest"
        copied = [
            h for h in head[1:] if h.split(":", 1)[0].strip().lower() in ("via", "from", "call-id", "cseq")
        ]
        reply = [f"SIP/2.0 {status}", *copied, f"To: {to}", *extra, "Content-Length: 0", "", ""]
        sock.sendto("\r\n".join(reply).encode(), peer)


def audit() -> int:
    """A sensitive read through the TLS proxy leaves an audit entry naming the client, not the
    proxy (172.28.0.20, docker-compose.yml); the chain verifies."""
    check = _check()
    status, _ = check._get("/api/calls/export", {"format": "csv"})
    if status != 200:
        raise SystemExit(f"GET /api/calls/export: HTTP {status}")
    entries: list[dict[str, object]] = []
    for _ in range(50):
        entries = _get(check, "/api/audit", {"action": "/api/calls/export"})  # type: ignore[assignment]
        if entries:
            break
        time.sleep(0.2)
    if not entries:
        print("no audit entry for the export")
        return 1
    last, verdict = entries[-1], _get(check, "/api/audit/verify", {})
    print(f"audit: {last['action']} by {last['actor']} from {last['address']}; {verdict['says']}")  # type: ignore[index]
    return 0 if last["address"] not in ("172.28.0.20", "") and verdict["ok"] else 1  # type: ignore[index]


ADMIN = "admin"  # accounts.bootstrap_admin, the default
READS = [s for s in SCOPES if s.endswith(":read")]  # what the privacy scan reads: every area


class Browser:
    """A page's side of the API: JSON bodies, the session cookie, the CSRF token on changes."""

    def __init__(self, url: str) -> None:
        self.url, self.cookie, self.csrf = url, "", ""

    def call(self, method: str, path: str, body: object = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        if self.cookie:
            headers["Cookie"] = self.cookie
        if self.csrf and method != "GET":
            headers["X-CSRF-Token"] = self.csrf
        data = json.dumps(body).encode() if body is not None else None
        request = Request(f"{self.url}{path}", data=data, headers=headers, method=method)
        try:
            with urlopen(request, timeout=30) as r:
                status, raw, cookies = r.status, r.read(), r.headers.get_all("Set-Cookie") or []
        except HTTPError as error:
            with error:
                status, raw, cookies = error.code, error.read(), []
        self._keep(cookies)
        return status, json.loads(raw) if raw else None

    def _keep(self, cookies: list[str]) -> None:
        for line in cookies:
            jar = SimpleCookie(line)
            if "hotline_session" in jar:
                morsel = jar["hotline_session"]
                flags = (morsel["secure"], morsel["httponly"], str(morsel["samesite"]).lower())
                if flags != (True, True, "strict"):
                    raise SystemExit(f"the session cookie is not Secure, HttpOnly, SameSite=Strict: {flags}")
                self.cookie = f"hotline_session={morsel.value}"

    def expect(self, want: int, method: str, path: str, body: object = None) -> Any:
        status, answer = self.call(method, path, body)
        if status != want:
            raise SystemExit(f"{method} {path}: HTTP {status}, not {want}: {answer}")
        return answer

    def sign_in(self, password: str, code: str | None = None) -> dict[str, Any]:
        self.cookie = self.csrf = ""
        answer: dict[str, Any] = self.expect(
            200, "POST", "/api/session", {"id": ADMIN, "password": password, "code": code}
        )
        self.csrf = answer["csrf"]
        return answer


def sign_in(token_file: Path) -> int:
    """The README's first sign-in: a wrong password refused (401); the bootstrap password from its
    secret file admits admin, who must set up an authenticator app before anything else (the
    shipped hotline.yaml requires one of admins and shift leads), then sets a password of their
    own; signing in again takes the app's code; a machine token for the checks goes into
    TOKEN_FILE. The audit log holds the sign-ins, the refused ones too."""
    page = Browser(os.environ["HOTLINE_TEST_URL"])
    bootstrap = Path(os.environ["HOTLINE_TEST_PASSWORD_FILE"]).read_text(encoding="utf-8").strip()
    wrong = page.expect(401, "POST", "/api/session", {"id": ADMIN, "password": bootstrap + "-wrong"})
    if not page.sign_in(bootstrap)["must_enrol"]:
        raise SystemExit("admin was not asked to set up an authenticator app (accounts.totp_roles)")
    secret = _enrol(page)
    mine = secrets.token_urlsafe(18)
    page.expect(204, "PUT", "/api/session/password", {"current": bootstrap, "new": mine})
    page.expect(401, "POST", "/api/session", {"id": ADMIN, "password": bootstrap})  # the old one
    asked = page.expect(401, "POST", "/api/session", {"id": ADMIN, "password": mine})  # no code
    # The next step's code: the one that confirmed the app is used up (a code works once).
    again = page.sign_in(mine, totp(secret, time.time() + 30))
    made = page.expect(201, "POST", "/api/tokens", {"name": "deploy-test", "scopes": READS, "days": 1})
    token_file.parent.mkdir(parents=True, exist_ok=True)
    token_file.touch(mode=0o600)
    token_file.write_text(made["token"] + "\n", encoding="utf-8")
    print(
        f"sign-in: a wrong password {wrong['error_id']}; no code {asked['error_id']}; admin enrolled,"
        f" second factor={again['second_factor']}; token {made['about']['id']}: {len(READS)} scopes"
    )
    return _signed_in_audited(made["token"])


def _enrol(page: Browser) -> str:
    """Set up the authenticator app: nothing else is admitted before it."""
    page.expect(403, "POST", "/api/tokens", {"name": "too-early", "scopes": ["audit:read"]})
    secret: str = page.expect(200, "POST", "/api/session/second-factor")["secret"]
    enrolled = page.expect(200, "PUT", "/api/session/second-factor", {"code": totp(secret)})
    if not enrolled["second_factor"] or enrolled["must_enrol"]:
        raise SystemExit(f"the authenticator app is not set up: {enrolled}")
    return secret


def _signed_in_audited(token: str) -> int:
    """The audit log, read with the machine token: admin's sign-ins, and the refused ones by
    nobody, all from this client (not the proxy)."""
    check = _check(token)
    entries: list[dict[str, Any]] = []
    for _ in range(50):
        found: list[dict[str, Any]] = _get(check, "/api/audit", {"action": "POST /api/session"})  # type: ignore[assignment]
        entries = [e for e in found if e["action"] == "POST /api/session"]
        if len(entries) >= 5:  # wrong, bootstrap, the old password, no code, with the code
            break
        time.sleep(0.2)
    signed_in = [e for e in entries if e["status"] == 200]
    refused = [e for e in entries if e["status"] == 401]
    print(
        f"audit: {len(signed_in)} sign-ins by {sorted({e['actor'] for e in signed_in})}, "
        f"{len(refused)} refused by {sorted({e['actor'] for e in refused})}"
    )
    proxy = any(e["address"] in ("172.28.0.20", "") for e in entries)
    ok = signed_in and refused and all(e["actor"] == ADMIN for e in signed_in)
    return 0 if ok and not proxy and all(e["actor"] == "anonymous" for e in refused) else 1


def scoped(token_file: Path) -> int:
    """The token `hotline admin token NAME --scope audit:read` printed: the audit log's verdict
    is its to read, the call records are not (403)."""
    check = _check(token_file.read_text(encoding="utf-8").strip())
    verdict, _ = check._get("/api/audit/verify", {})
    records, _ = check._get("/api/calls", {})
    print(f"a token from the shell, audit:read: GET /api/audit/verify {verdict}, GET /api/calls {records}")
    return 0 if (verdict, records) == (200, 403) else 1


def head() -> int:
    from alembic.script import ScriptDirectory

    from core.db import MIGRATIONS, alembic_config

    config = alembic_config(None)  # type: ignore[arg-type]  # only the scripts are read
    config.set_main_option("script_location", str(MIGRATIONS))
    print(ScriptDirectory.from_config(config).get_current_head())
    return 0


def main(argv: list[str]) -> int:
    command, args = argv[0], argv[1:]
    if command == "calls":
        return calls(int(args[0]), int(args[1]))
    if command == "count":
        return count(int(args[0]))
    if command == "report":
        return report()
    if command == "same":
        return same(args[0], args[1])
    if command == "registrar":
        return registrar(int(args[0]), args[1], args[2])
    if command == "head":
        return head()
    if command == "audit":
        return audit()
    if command == "scan":
        return scan(int(args[0]), int(args[1]), args[2:])
    if command == "sign-in":
        return sign_in(Path(args[0]))
    if command == "scoped":
        return scoped(Path(args[0]))
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
