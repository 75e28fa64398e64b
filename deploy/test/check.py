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

Environment: HOTLINE_TEST_URL (https://localhost:PORT), HOTLINE_TEST_TOKEN_FILE (the admin token),
SSL_CERT_FILE (the proxy's certificate), HOTLINE_TEST_SIP (address:port of Asterisk's SIP as the
callers reach it), HOTLINE_TEST_LOCAL_IP (the callers' own address), HOTLINE_TEST_VAR (scratch).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import socket
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from core.settings import load_settings  # noqa: E402
from privacy.scanner import Scanner  # noqa: E402
from sandbox.callgen import Callgen  # noqa: E402
from sandbox.privacy_check import DEFAULT_SHAPES, NAME, PrivacyCheck, PrivacyReport, plans_for  # noqa: E402

# Answered after "2" (English) then "1" (crisis) or "3" (loss). Silence, hang-ups and referrals
# take the same path through the containers; the e2e suite covers them against the sandbox.
SHAPES = tuple(s for s in DEFAULT_SHAPES if s.hangup_after_ms is None and s.digits)


def _check() -> PrivacyCheck:
    token = Path(os.environ["HOTLINE_TEST_TOKEN_FILE"]).read_text(encoding="utf-8").strip()
    var = Path(os.environ["HOTLINE_TEST_VAR"])
    settings = load_settings(ROOT / "hotline.yaml", admin_token=token, var_dir=str(var))
    return PrivacyCheck(settings, timeout=90, url=os.environ["HOTLINE_TEST_URL"])


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
    raise SystemExit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
