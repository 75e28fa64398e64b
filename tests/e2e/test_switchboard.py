"""Switchboarding on the real Asterisk (issue 17, item 5): while a shift lead's redirect lasts,
sipp callers who choose a queue reach the target instead (the records show it), the wallboard's
snapshot shows the redirect and its expiry; once it expires by itself they reach their own queue
again. A redirect to a partner line: the caller's call is dialled to the partner as the IVR's
referrals are (anonymous: sipp's partner line fails the call if a caller's number appears).

Callers (tests/e2e/ivr.yaml): "13" is Russian, topic loss -> queue loss; "11" Russian, crisis.
Every redirect is ended at the end of its test, a failing one too."""

from __future__ import annotations

import subprocess
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from sandbox.scenarios import partner_line_scenario
from tests.e2e.calls import place, plan, records, samples
from tests.e2e.conftest import REFERRAL_PORT, Service

pytestmark = [pytest.mark.asterisk, pytest.mark.beside]  # own sipp ports: beside the rest

BASE = 40000  # sipp ports of this module's callers: 40000.. (media +1000: 41000..)
PARTNER_MEDIA_PORT = 41900
WINDOW_MINUTES = 0.5  # long enough for a caller's walk through the IVR on a loaded machine


def _start(service: Service, **body: Any) -> dict[str, Any]:
    made = httpx.post(f"{service.url}/api/switchboard", headers=service.admin, json=body, timeout=10)
    assert made.status_code == 201, made.text
    answer: dict[str, Any] = made.json()
    return answer


def _end(service: Service, redirect_id: int) -> httpx.Response:
    return httpx.delete(f"{service.url}/api/switchboard/{redirect_id}", headers=service.admin, timeout=10)


def _listing(service: Service) -> dict[str, Any]:
    got = httpx.get(f"{service.url}/api/switchboard", headers=service.admin, timeout=10)
    assert got.status_code == 200, got.text
    answer: dict[str, Any] = got.json()
    return answer


def _on_the_wallboard(service: Service) -> list[dict[str, Any]]:
    got = httpx.get(f"{service.url}/api/wallboard", headers=service.admin, timeout=10)
    assert got.status_code == 200, got.text
    shown: list[dict[str, Any]] = got.json()["switchboard"]
    return shown


def _new_records(service: Service, before: set[str], count: int, since: datetime) -> list[dict[str, Any]]:
    """This test's records: new since ``before`` and begun ``since`` (a call of an earlier test
    may still be ending, its record written late)."""
    deadline = time.monotonic() + 20
    while True:
        got = [
            r
            for r in records(service, len(before) + count)
            if r["id"] not in before and datetime.fromisoformat(r["started_at"]) >= since
        ]
        if len(got) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.3)
    assert len(got) == count, got
    return sorted(got, key=lambda r: r["started_at"])


def _until_expired(service: Service, redirect_id: int, planned_end: datetime) -> dict[str, Any]:
    """The redirect as listed once it is no longer active (by its planned end, plus slack)."""
    deadline = (
        time.monotonic() + max(0.0, (planned_end - datetime.now(planned_end.tzinfo)).total_seconds()) + 10
    )
    while True:
        listing = _listing(service)
        if not any(r["id"] == redirect_id for r in listing["active"]):
            [mine] = [r for r in listing["recent"] if r["id"] == redirect_id]
            found: dict[str, Any] = mine
            return found
        assert time.monotonic() < deadline, listing
        time.sleep(0.2)


def test_callers_reach_the_target_while_it_lasts_and_their_queue_after(
    service: Service, e2e_settings: Settings
) -> None:
    service.start()
    since, before = datetime.now(UTC), {r["id"] for r in records(service, 0)}
    made = _start(service, queue="loss", target_queue="addiction", minutes=WINDOW_MINUTES)
    try:
        planned_end = datetime.fromisoformat(made["planned_end"])
        [shown] = _on_the_wallboard(service)
        assert (shown["id"], shown["queue"], shown["target_queue"]) == (made["id"], "loss", "addiction")
        assert datetime.fromisoformat(shown["expires_at"]) == planned_end
        assert 0 < shown["seconds_left"] <= WINDOW_MINUTES * 60
        assert samples(service)[("hotline_switchboard_redirects", "loss")] == 1.0  # /metrics too
        place(e2e_settings, [plan("13")], base=BASE)  # Russian, loss: during the window
        assert datetime.now(planned_end.tzinfo) < planned_end, "the call outlasted the window: no proof"
        expired = _until_expired(service, made["id"], planned_end)
        assert (expired["state"], expired["ended_by"]) == ("expired", None)
        assert datetime.fromisoformat(expired["ended_at"]) == planned_end
        assert _on_the_wallboard(service) == []
        assert ("hotline_switchboard_redirects", "loss") not in samples(service)
        place(e2e_settings, [plan("13")], base=BASE + 100)  # after it: their own queue again
    finally:
        _end(service, made["id"])  # a failing test leaves no redirect behind (409 once it expired)
    during, after = _new_records(service, before, 2, since)
    assert (during["topic"], during["queue"], during["switchboarded_from"], during["outcome"]) == (
        "loss",
        "addiction",
        "loss",
        "answered",
    )
    assert (during["overflowed"], during["fallback"]) == (False, False)
    assert (after["topic"], after["queue"], after["switchboarded_from"], after["outcome"]) == (
        "loss",
        "loss",
        None,
        "answered",
    )


def test_a_partner_line_takes_the_callers_of_a_redirected_queue(
    service: Service, e2e_settings: Settings
) -> None:
    service.start()
    since, before = datetime.now(UTC), {r["id"] for r in records(service, 0)}
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "partner.xml"
        # Dialled with the partner's number; the callers' numbers (+7 900 000 …) never travel.
        scenario.write_text(partner_line_scenario("88001000002", forbidden="7900000"), encoding="ascii")
        partner = subprocess.Popen(
            ["sipp", "-sf", str(scenario), "-p", str(REFERRAL_PORT), "-i", "127.0.0.1",
             "-mi", "127.0.0.1", "-mp", str(PARTNER_MEDIA_PORT), "-m", "1", "-timeout", "60s", "-nostdin"],
            cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        made = _start(service, queue="crisis", target_referral="crisis-team", minutes=5)
        try:
            assert [s["target_referral"] for s in _on_the_wallboard(service)] == ["crisis-team"]
            place(e2e_settings, [plan("11", hangup_after_ms=9000)], base=BASE + 200)  # Russian, crisis
            out, _ = partner.communicate(timeout=30)
        finally:
            ended = _end(service, made["id"])  # ended early, by the admin's machine token
            if partner.poll() is None:
                partner.kill()
                partner.communicate()
    assert (ended.status_code, ended.json()["state"], ended.json()["ended_by"]) == (
        200,
        "ended",
        service.actor,
    )
    assert _on_the_wallboard(service) == []
    assert partner.returncode == 0, out.decode(errors="replace")[-2000:]
    [r] = _new_records(service, before, 1, since)
    assert (r["topic"], r["referral"], r["queue"], r["switchboarded_from"], r["outcome"]) == (
        "crisis",
        "crisis-team",
        None,
        "crisis",
        "referred",
    )


def test_a_redirect_holds_across_a_restart_of_the_service(service: Service, e2e_settings: Settings) -> None:
    """Stored, and reloaded before FastAGI takes its first caller; its end computed from the
    stored times."""
    service.start()
    since, before = datetime.now(UTC), {r["id"] for r in records(service, 0)}
    made = _start(service, queue="loss", target_queue="addiction", minutes=2)
    try:
        service.stop()
        service.start()
        [again] = _listing(service)["active"]
        assert (again["id"], again["planned_end"], again["started_by"]) == (
            made["id"],
            made["planned_end"],
            service.actor,
        )
        assert [s["id"] for s in _on_the_wallboard(service)] == [made["id"]]
        place(e2e_settings, [plan("13")], base=BASE + 300)  # Russian, loss
    finally:
        _end(service, made["id"])
    [r] = _new_records(service, before, 1, since)
    assert (r["topic"], r["queue"], r["switchboarded_from"], r["outcome"]) == (
        "loss",
        "addiction",
        "loss",
        "answered",
    )
