"""Helpers of the real-Asterisk tests: synthetic callers (every number used is remembered for
the final privacy scan), the records API, Prometheus samples."""

from __future__ import annotations

import asyncio
import os
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from core.settings import Settings
from sandbox.callgen import Callgen, CallgenResult
from sandbox.scenarios import CallPlan
from tests.e2e.conftest import Service

NUMBERS: list[str] = []
NAME = "Synth Caller"


def plan(digits: str, **kw: Any) -> CallPlan:
    number = f"+7900000{len(NUMBERS) + 1:04d}"
    NUMBERS.append(number)
    return CallPlan(number=number, digits=digits, name=f"{NAME} {len(NUMBERS):03d}", **kw)


def trace_dir() -> Path | None:
    """``HOTLINE_CALLGEN_TRACE``: a directory to keep the callers' sipp logs in, to debug a test."""
    trace = os.environ.get("HOTLINE_CALLGEN_TRACE")
    return Path(trace) if trace else None


async def place_async(
    settings: Settings, plans: list[CallPlan], base: int, timeout_s: float = 90
) -> CallgenResult:
    gen = Callgen(
        port=settings.sandbox.sip_port,
        local_port_base=base,
        media_port_base=base + 1000,
        trace_dir=trace_dir(),
    )
    return await gen.place(plans, concurrency=20, rate=20, timeout_s=timeout_s)


def place(settings: Settings, plans: list[CallPlan], base: int) -> None:
    result = asyncio.run(place_async(settings, plans, base))
    assert (result.successful, result.failed) == (len(plans), 0), result


def records(service: Service, expected: int, timeout: float = 20) -> list[dict[str, Any]]:
    """All records, once at least ``expected`` exist (records are written when calls end)."""
    deadline = time.monotonic() + timeout
    while True:
        body: list[dict[str, Any]] = httpx.get(
            f"{service.url}/api/calls", params={"limit": 1000}, headers=service.admin
        ).json()
        if len(body) >= expected or time.monotonic() > deadline:
            return body
        time.sleep(0.3)


def samples(service: Service) -> dict[tuple[str, str], float]:
    text = httpx.get(f"{service.url}/metrics/").text
    out: dict[tuple[str, str], float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[(s.name, s.labels.get("queue", s.labels.get("node", "")))] = s.value
    return out


def backlog(svc: Service) -> tuple[float, dict[str, Any]]:
    """Records not saved yet, on /metrics and in /healthz. (The token is checked in the
    database: with the database locked, the check waits for it, then takes who the token was
    when last checked, agents/last_known.py.)"""
    pending = samples(svc).get(("hotline_records_pending", ""), -1.0)
    health = httpx.get(f"{svc.url}/healthz", headers=svc.admin, timeout=30).json()
    return pending, health.get("records", {})


def report_equals_records(svc: Service, records: list[dict[str, Any]]) -> None:
    """The day's report (read from the cells) counts exactly what the records say."""
    starts = [datetime.fromisoformat(r["started_at"]) for r in records]
    start = min(starts).replace(second=0, microsecond=0)
    end = max(starts).replace(second=0, microsecond=0) + timedelta(minutes=1)
    params = {"start": start.isoformat(), "end": end.isoformat(), "interval": "day", "tz": "UTC"}
    report = httpx.get(f"{svc.url}/api/reports", params=params, headers=svc.admin, timeout=30).json()
    window = [r for r in records if start <= datetime.fromisoformat(r["started_at"]) < end]
    offered = [
        r for r in window if r["queue_entered_at"] or r["outcome"] in ("answered", "abandoned_in_queue")
    ]
    total = report["total"]
    assert (total["offered"], total["answered"], total["abandoned"]) == (
        len(offered),
        sum(r["outcome"] == "answered" for r in window),
        sum(r["outcome"] == "abandoned_in_queue" for r in window),
    ), total
