"""The audit trail of the HTTP API (issue 18, item 4): one middleware sees every request, so no
route can forget it, and records into the audit log (core/audit.py):

- every change: each POST, PUT, PATCH and DELETE under /api that reached a route, with its answer
  (a refusal too: a 403, a 409, a 422 the guard admitted);
- every sensitive read: exports, reports, a call's summary, the audit log itself;
- refused tokens (401): at most one entry per address per ``REFUSED_EVERY`` seconds, counting the
  refusals in between, so a hostile client cannot flood the log.

Who: the principal the route's guard admitted (set on the request by agents/auth.py), by pseudonym
and role. From where: the client's address, or the address a trusted proxy forwarded. What: the
method and the route's path template, the path's parameters, the status, and the ``details`` a
route put on ``request.state`` (e.g. a setting before and after). Never a body, a header, a
token or a query that could hold personal data.
"""

from __future__ import annotations

import asyncio
import csv
import io
import ipaddress
import json
import logging
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Query
from fastapi.responses import PlainTextResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from core.audit import DETAILS_KEY, AuditEntry, AuditLog, AuditStore, verify
from core.tasks import TaskSupervisor
from core.types import Guard

log = logging.getLogger("hotline.audit")
CHANGES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SENSITIVE_READS = ("/api/calls/export", "/api/calls/{record_id}/summary", "/api/reports", "/api/audit")
QUERY_KEPT = ("from", "to", "since", "until", "start", "end", "queue", "topic", "format", "actor", "action")
REFUSED_EVERY = 60.0
# Each sign-in and kiosk pairing that reached its check is an entry, failures too (an address
# may fail ten times a minute: agents/accounts_api.py); those refused before it (throttled, a
# malformed body) count with the refused tokens, one entry a minute per address.
SIGN_INS = frozenset({("POST", "/api/session"), ("POST", "/api/kiosks/pair")})
_MAX_VALUE = 80

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def networks(proxies: Sequence[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def client_address(scope: Scope, proxies: tuple[Network, ...]) -> str:
    """The peer's address; behind a trusted proxy, the nearest address in X-Forwarded-For that
    is not itself a trusted proxy."""
    peer = (scope.get("client") or ("?", 0))[0]
    if not proxies or not _within(peer, proxies):
        return str(peer)[:64]
    forwarded = [v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"x-forwarded-for"]
    hops = [h.strip() for h in ",".join(forwarded).split(",") if h.strip()]
    for hop in reversed(hops):
        if not _within(hop, proxies):
            return hop[:64]
    return str(peer)[:64]


def _within(address: str, proxies: tuple[Network, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in proxies)


class AuditTrail:
    def __init__(
        self,
        app: ASGIApp,
        record: Callable[[AuditEntry], None],
        proxies: tuple[Network, ...] = (),
        refused_every: float = REFUSED_EVERY,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app, self._record, self._proxies = app, record, proxies
        self._refused_every, self._clock = refused_every, clock
        self._refused: dict[str, tuple[float, int]] = {}  # address -> (last entry, refusals since)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        status = 0

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            self._after(scope, status or 500)

    def _after(self, scope: Scope, status: int) -> None:
        state = scope.get("state") or {}
        principal = state.get("principal")
        address = client_address(scope, self._proxies)
        route = scope.get("route")
        template = getattr(route, "path", None)
        method = scope["method"]
        if principal is None and (method, template) in SIGN_INS:
            noted = dict(state.get(DETAILS_KEY) or {})
            if not noted:  # refused before any check (throttled, malformed): counted, not one each
                self._refusal(address)
                return
            self._record(AuditEntry("anonymous", "", address, f"{method} {template}", "", status, noted))
            return
        if status == 401 and principal is None:
            self._refusal(address)
            return
        if principal is None or template is None:
            return
        sensitive = method == "GET" and template.startswith(SENSITIVE_READS)
        if method not in CHANGES and not sensitive:
            return
        details: dict[str, Any] = dict(state.get(DETAILS_KEY) or {})
        if sensitive:
            query = _kept_query(scope)
            if query:
                details["query"] = query
        params = scope.get("path_params") or {}
        target = ",".join(f"{k}={str(v)[:_MAX_VALUE]}" for k, v in sorted(params.items()))
        self._record(
            AuditEntry(
                actor=principal.name,
                role=principal.role.value,
                address=address,
                action=f"{method} {template}",
                target=target,
                status=status,
                details=details,
            )
        )

    def _refusal(self, address: str) -> None:
        now = self._clock()
        last, since = self._refused.get(address, (None, 0))
        if last is not None and now - last < self._refused_every:
            self._refused[address] = (last, since + 1)
            return
        if len(self._refused) > 10_000:  # many addresses: forget the old ones
            self._refused = {a: v for a, v in self._refused.items() if now - v[0] < self._refused_every}
        self._refused[address] = (now, 0)
        details = {"refused_since_last_entry": since} if since else {}
        self._record(AuditEntry("anonymous", "", address, "auth.refused", status=401, details=details))


def _kept_query(scope: Scope) -> dict[str, str]:
    pairs = parse_qsl(scope.get("query_string", b"").decode("latin-1"))
    return {k: v[:_MAX_VALUE] for k, v in pairs if k in QUERY_KEPT}


def audit_router(store: AuditStore, require_admin: Guard) -> APIRouter:
    """Admins read, export and verify the audit log."""
    api = APIRouter(prefix="/api/audit", tags=["audit"], dependencies=[Depends(require_admin)])

    @api.get("")
    async def entries(
        actor: str | None = Query(None, max_length=80),
        action: str | None = Query(None, max_length=120, description="a part of the action, e.g. /api/ivr"),
        since: datetime | None = None,
        until: datetime | None = None,
        after: int = Query(0, ge=0, description="entries after this number (paging)"),
        limit: int = Query(200, ge=1, le=1000),
    ) -> list[dict[str, Any]]:
        return await asyncio.to_thread(
            store.entries, actor=actor, action=action, since=since, until=until, after_seq=after, limit=limit
        )

    @api.get("/export", response_class=PlainTextResponse)
    async def export(
        actor: str | None = Query(None, max_length=80),
        action: str | None = Query(None, max_length=120),
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> PlainTextResponse:
        def build() -> str:
            out = io.StringIO()
            writer = csv.writer(out)
            columns = ("seq", "at", "actor", "role", "address", "action", "target", "status", "details")
            writer.writerow(columns)
            after = 0
            while True:
                rows = store.entries(
                    actor=actor, action=action, since=since, until=until, after_seq=after, limit=1000
                )
                for r in rows:
                    writer.writerow([r[c] if c != "details" else _json(r[c]) for c in columns])
                if len(rows) < 1000:
                    return out.getvalue()
                after = rows[-1]["seq"]

        body = await asyncio.to_thread(build)
        headers = {"Content-Disposition": 'attachment; filename="audit.csv"'}
        return PlainTextResponse(body, media_type="text/csv; charset=utf-8", headers=headers)

    @api.get("/verify")
    async def check() -> dict[str, Any]:
        verdict = await asyncio.to_thread(verify, store)
        return {
            "ok": verdict.ok,
            "checked": verdict.checked,
            "first": verdict.first_seq,
            "says": verdict.line(),
        }

    router = APIRouter()
    router.include_router(api)
    return router


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


async def prune_forever(log_: AuditLog, days: int, tasks: TaskSupervisor, every: float = 3600.0) -> None:
    """Entries older than ``days`` removed now and every ``every`` seconds, off the loop; each
    removal is itself an entry (by "system"), so the log says when and how much retention took."""
    outage = tasks.outage("audit-retention", "audit retention run", log)
    while True:
        try:
            removed = await asyncio.to_thread(log_.store.prune, timedelta(days=days))
        except Exception as exc:
            outage.failed(exc)
            await asyncio.sleep(min(every, 300.0))
            continue
        outage.ok()
        if removed:
            log.info("audit retention: %d entries older than %d days removed", removed, days)
            log_.record(
                AuditEntry("system", "", "", "audit.pruned", details={"removed": removed, "days": days})
            )
        await asyncio.sleep(every)
