"""``hotline privacy-check``: prove that no caller number reached any store.

Against a running sandbox hotline (``hotline run``), it places a batch of real SIP calls with
synthetic numbers (+7 900 000 xx xx) and mixed fates (answered, hung up in the IVR, hung up
while waiting, after hours), waits for their records, then looks for every number in every
usual spelling (privacy/scanner.py) in:

* the database: every row of every table, and the database file itself when it is SQLite;
* the service's files: ``var_dir`` (logs, secrets, prompts, SQLite WAL) and ``log_file``;
* every JSON API of the service (each GET route its OpenAPI schema lists without a path
  parameter, with a machine token of every read scope, each ``format`` it offers; of an event
  stream, what arrives in 3 s), ``/metrics`` and ``/healthz``;
* Asterisk's files: every sandbox node's directory (config, logs, spool, astdb, run, cache) and the
  chroot's ``/var/log/asterisk``, ``/var/spool/asterisk``, ``/var/lib/asterisk`` and ``/tmp``
  (where CDR CSV, CEL, queue_log and astdb would land with a stock configuration).

It prints what it scanned and what it found, and exits non-zero when anything was found.
It places calls: never point it at a hotline with real callers or real partner lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import Any, Final
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import Request, urlopen

from sqlalchemy.engine.url import make_url

from agents.tokens import SCOPES, Tokens
from core.db import make_engine
from core.settings import Settings
from privacy.scanner import Finding, Scanner
from sandbox.callgen import Callgen
from sandbox.scenarios import CallPlan, partner_line_scenario

NAME: Final = "Synth Caller"
STREAM_SECONDS: Final = 3.0
CHROOT_DIRS: Final = ("var/log/asterisk", "var/spool/asterisk", "var/lib/asterisk", "tmp")


@dataclass(frozen=True)
class Shape:
    """What a caller does: keys to press, and when to hang up (None: waits for the far end)."""

    digits: str
    hangup_after_ms: int | None = None


# The shipped menu (hotline-ivr.yaml): language 2 (English), then 1 crisis, or 2 the topics and
# 3 loss, 5 legal (after hours: referral); silence ends at a human; a caller gone after 1.5 s
# never chose.
DEFAULT_SHAPES: Final = (
    Shape("21"),
    Shape("223"),
    Shape(""),
    Shape("", 1500),
    Shape("21", 9000),
    Shape("225", 9000),
)


def synthetic_number(n: int) -> str:
    return f"+7900000{n:04d}"


def plans_for(shapes: Sequence[Shape], count: int, first: int = 1) -> list[CallPlan]:
    """``count`` callers, the shapes in turn, numbers from ``first`` on."""
    out = []
    for i in range(count):
        shape = shapes[i % len(shapes)]
        n = first + i
        number = synthetic_number(n)
        out.append(CallPlan(number, shape.digits, f"{NAME} {n:03d}", hangup_after_ms=shape.hangup_after_ms))
    return out


@dataclass
class PrivacyReport:
    planned: int = 0
    completed: int = 0
    failed: int = 0
    records: list[dict[str, Any]] = field(default_factory=list)
    scanned: dict[str, int] = field(default_factory=dict)
    skipped: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings

    def lines(self) -> list[str]:
        outcomes = Counter(r["outcome"] for r in self.records)
        out = [
            f"calls: {self.planned} placed, {self.completed} completed, {self.failed} failed",
            f"records: {len(self.records)} ({', '.join(f'{k} {v}' for k, v in sorted(outcomes.items()))})",
            "scanned: " + ", ".join(f"{what} {n}" for what, n in self.scanned.items()),
        ]
        out += [f"not scanned: {why}" for why in self.skipped]
        if self.clean:
            out.append("no caller number or name found anywhere")
        out += [f"FOUND {f.needle} in {f.where}" for f in self.findings]
        return out


class PrivacyCheck:
    def __init__(
        self,
        settings: Settings,
        timeout: float = 120,
        url: str | None = None,
        trace_dir: Path | None = None,
        token: str | None = None,
    ) -> None:
        """``url``: where the service answers, if not at ``settings.http`` (e.g. behind the TLS
        proxy of the docker-compose stack). ``trace_dir``: keep the callers' sipp logs there (they
        hold the synthetic numbers: for debugging a test only). ``token``: an API token that reads
        every area; None: one made in the database for a day (the check reads the API as a
        machine, like any other)."""
        self.settings = settings
        self.timeout = timeout
        self.trace_dir = trace_dir
        http = settings.http
        self.url = url or f"http://{http.host}:{http.port}"
        self._token = token

    @functools.cached_property
    def headers(self) -> dict[str, str]:
        """Made at the first read of the API, not before: a service that never ran has no
        database to make a token in (and `hotline privacy-check` says it does not answer)."""
        return {"Authorization": f"Bearer {self._token or self._reading_token()}"}

    def _reading_token(self) -> str:
        engine = make_engine(self.settings.database_url)
        try:
            reads = [s for s in SCOPES if s.endswith(":read")]
            token, _ = Tokens(engine).create("privacy-check", reads, 1, "privacy-check")
        finally:
            engine.dispose()
        return token

    # -- the calls ----------------------------------------------------------------------------
    def healthy(self) -> bool:
        with (
            contextlib.suppress(OSError, HTTPException),
            urlopen(_request(f"{self.url}/healthz"), timeout=3) as r,
        ):
            return bool(r.status == 200)
        return False

    def record_ids(self) -> set[str]:
        return {r["id"] for r in self.all_records()}

    def all_records(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while True:
            params: dict[str, Any] = {"limit": 1000, "offset": len(out)}
            page = _get_json(f"{self.url}/api/calls", params, self.headers, timeout=30)
            out += page
            if len(page) < 1000:
                return out

    async def place(
        self,
        plans: list[CallPlan],
        base_port: int = 27100,
        partner_calls: int = 0,
        partner_number: str | None = None,
    ) -> tuple[int, int]:
        """Place the calls (20 at once per shape); a simulated partner line answers
        ``partner_calls`` referrals meanwhile, dialled as ``partner_number`` (None: the first
        number of the referral directory). Returns (completed, failed)."""
        sandbox = self.settings.sandbox
        gen = Callgen(
            sandbox.sip_host,
            sandbox.sip_port,
            local_port_base=base_port,
            media_port_base=base_port + 1000,
            trace_dir=self.trace_dir,
        )
        with self._partner_line(partner_calls, base_port + 900, partner_number):
            result = await gen.place(plans, concurrency=20, rate=20, timeout_s=self.timeout)
        return result.successful, result.failed

    @contextlib.contextmanager
    def _partner_line(self, calls: int, media_port: int, number: str | None = None) -> Iterator[None]:
        host, _, port = self.settings.referral_trunk.partition(":")
        if calls <= 0 or host not in ("127.0.0.1", "localhost"):
            yield
            return
        with tempfile.TemporaryDirectory(prefix="hotline-partner-") as tmp:
            scenario = Path(tmp) / "partner.xml"
            scenario.write_text(partner_line_scenario(number or self._referral_number(), forbidden="7900000"))
            cmd = ["sipp", "-sf", str(scenario), "-p", port or "5060", "-i", "127.0.0.1", "-mi", "127.0.0.1",
                   "-mp", str(media_port), "-m", str(calls), "-timeout", f"{int(self.timeout)}s",
                   "-nostdin"]  # fmt: skip
            partner = subprocess.Popen(cmd, cwd=tmp, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                yield
            finally:
                with contextlib.suppress(subprocess.TimeoutExpired):
                    partner.wait(timeout=10)
                if partner.poll() is None:
                    partner.kill()
                    partner.wait()

    def _referral_number(self) -> str:
        referrals = _get_json(f"{self.url}/api/referrals", headers=self.headers, timeout=10)
        numbers = [r.get("number") for r in referrals if isinstance(r, dict)]
        return next((n for n in numbers if isinstance(n, str)), "88001000001")

    def new_records(self, before: set[str], expected: int, timeout: float = 30) -> list[dict[str, Any]]:
        """The records not in ``before``, once ``expected`` exist (or at the timeout); then
        half a second more, so a surplus record would show."""
        deadline = time.monotonic() + timeout
        while True:
            got = [r for r in self.all_records() if r["id"] not in before]
            if len(got) >= expected or time.monotonic() > deadline:
                time.sleep(0.5)
                return [r for r in self.all_records() if r["id"] not in before]
            time.sleep(0.3)

    # -- the scan -----------------------------------------------------------------------------
    def scan(self, numbers: Sequence[str], names: Sequence[str] = (NAME,)) -> PrivacyReport:
        scanner = Scanner(numbers, names)
        report = PrivacyReport()
        report.findings += self._scan_database(scanner, report)
        report.findings += self._scan_http(scanner, report)
        files = self.file_roots()
        report.scanned["files"] = sum(1 for root in files for p in _walk(root))
        report.findings += scanner.scan_files(files)
        return report

    def file_roots(self) -> list[Path]:
        s = self.settings
        roots = [s.var_dir, s.sandbox.directory]
        roots += [n.sandbox.directory for n in s.asterisk if n.sandbox is not None]  # every node's
        if s.log_file is not None:
            roots.append(s.log_file)
        roots += [s.sandbox.root_cache / d for d in CHROOT_DIRS]
        url = make_url(s.database_url)
        if url.get_backend_name() == "sqlite" and url.database:
            roots += [Path(url.database + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
        return [r for r in dict.fromkeys(roots) if r.exists()]

    def _scan_database(self, scanner: Scanner, report: PrivacyReport) -> list[Finding]:
        engine = make_engine(self.settings.database_url)
        try:
            found = scanner.scan_database(engine)
            report.scanned["database tables"] = len(_tables(engine))
        finally:
            engine.dispose()
        return found

    def _scan_http(self, scanner: Scanner, report: PrivacyReport) -> list[Finding]:
        found: list[Finding] = []
        requests: list[tuple[str, dict[str, Any]]] = [
            ("/metrics/", {}),
            ("/healthz", {}),
            ("/openapi.json", {}),
        ]
        requests += self._api_requests(report)
        for path, params in requests:
            where = f"GET {path}" + (f"?{urlencode(params)}" if params else "")
            status, body = self._get(path, params)
            if status >= 500:
                report.skipped.append(f"{where}: HTTP {status}")
            found += scanner.scan_bytes(f"{where} (HTTP {status})", body)
        report.scanned["HTTP responses"] = len(requests)
        return found

    def _get(self, path: str, params: dict[str, Any]) -> tuple[int, bytes]:
        """The body; of an event stream (it never ends), what comes in STREAM_SECONDS."""
        body = bytearray()
        request = _request(f"{self.url}{path}", params, self.headers)
        try:  # every socket operation waits STREAM_SECONDS at most: a quiet stream ends there
            response = urlopen(request, timeout=STREAM_SECONDS)
        except HTTPError as error:  # an error answer is scanned like any other
            with error:
                return error.code, error.read()
        with response as r:
            streaming = r.headers.get("content-type", "").startswith("text/event-stream")
            deadline = time.monotonic() + STREAM_SECONDS
            try:
                while chunk := r.read1(65536):
                    body += chunk
                    if streaming and time.monotonic() > deadline:
                        break
            except TimeoutError:
                if not streaming:
                    raise
            return int(r.status), bytes(body)

    def _api_requests(self, report: PrivacyReport) -> list[tuple[str, dict[str, Any]]]:
        """Every GET of the OpenAPI schema without a path parameter; once per ``format``."""
        schema = _get_json(f"{self.url}/openapi.json", timeout=10)
        out: list[tuple[str, dict[str, Any]]] = []
        for path, operations in sorted(schema.get("paths", {}).items()):
            get = operations.get("get")
            if get is None:
                continue
            if "{" in path:
                report.skipped.append(f"GET {path} (path parameter)")
                continue
            query = {
                p["name"]: p.get("schema", {}) for p in get.get("parameters", []) if p.get("in") == "query"
            }
            params: dict[str, Any] = {"limit": 1000} if "limit" in query else {}
            formats = _enum(schema, query.get("format", {}))
            out += [(path, {**params, "format": f}) for f in formats] if formats else [(path, params)]
        return out


def _request(
    url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> Request:
    """A GET with the standard library's client, which logs no line per request."""
    return Request(f"{url}?{urlencode(params)}" if params else url, headers=headers or {})


def _get_json(
    url: str, params: dict[str, Any] | None = None, headers: dict[str, str] | None = None, *, timeout: float
) -> Any:
    """The JSON body of a successful GET; an error status raises (urllib's HTTPError)."""
    with urlopen(_request(url, params, headers), timeout=timeout) as r:
        return json.loads(r.read())


def _enum(schema: dict[str, Any], param: dict[str, Any]) -> list[str]:
    ref = param.get("$ref") or next((a.get("$ref") for a in param.get("allOf", []) if "$ref" in a), None)
    if ref:
        param = schema["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return [str(v) for v in param.get("enum", [])]


def _tables(engine: Any) -> list[str]:
    from sqlalchemy import inspect

    return list(inspect(engine).get_table_names())


def _walk(root: Path) -> Iterator[Path]:
    if root.is_file():
        yield root
    elif root.is_dir():
        yield from (p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def run(settings: Settings, calls: int, first: int = 1) -> int:
    """The CLI: 0 clean, 1 something found or calls lost, 2 the check could not run."""
    check = PrivacyCheck(settings)
    if not check.healthy():
        print(
            f"hotline privacy-check: the hotline does not answer at {check.url}/healthz;"
            " start it first (hotline run)"
        )
        return 2
    before = check.record_ids()
    plans = plans_for(DEFAULT_SHAPES, calls, first)
    referrals = sum(1 for p in plans if p.digits.endswith("5"))
    print(f"placing {len(plans)} synthetic calls ({plans[0].number} ... {plans[-1].number}) ...", flush=True)
    completed, failed = asyncio.run(check.place(plans, partner_calls=referrals))
    records = check.new_records(before, len(plans))
    report = check.scan([p.number for p in plans])
    report.planned, report.completed, report.failed, report.records = len(plans), completed, failed, records
    for line in report.lines():
        print(line)
    if len(records) != len(plans):
        print(f"expected {len(plans)} new records, found {len(records)}")
        return 1
    return 0 if report.clean else 1
