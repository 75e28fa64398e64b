"""The IVR as administrators shape it, driven by real DTMF over real SIP (tests/e2e/ivr.yaml):
two-level menus, silence and wrong keys ending at a human, after-hours referral to a partner
line, languages, and publishing a new version while callers are inside the IVR."""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from core.settings import Settings
from sandbox.scenarios import partner_line_scenario
from tests.e2e.calls import place, place_async, plan, records
from tests.e2e.conftest import REFERRAL_PORT, Service

pytestmark = pytest.mark.asterisk


def new_records(service: Service, before: set[str], count: int) -> list[dict[str, Any]]:
    got = [r for r in records(service, len(before) + count) if r["id"] not in before]
    assert len(got) == count, got
    return got


def record_ids(service: Service) -> set[str]:
    return {r["id"] for r in records(service, 0)}


def test_menus_by_dtmf_reach_the_right_place(service: Service, e2e_settings: Settings) -> None:
    service.start()
    before = record_ids(service)
    two_level = plan("221")  # English, violence submenu, violence at home
    back = plan("22*4")  # English, violence submenu, back, addiction
    silent = plan("")  # nothing at all: a human on the fallback queue
    wrong = plan("19*")  # Russian, then two keys the root node does not know
    place(e2e_settings, [two_level, back, silent, wrong], base=25500)
    got = {(r["path"], r["language"]): r for r in new_records(service, before, 4)}

    r = got[("2,2,1", "en")]
    assert (r["topic"], r["queue"], r["priority"], r["outcome"]) == (
        "violence-home",
        "violence",
        5,
        "answered",
    )
    r = got[("2,2,*,4", "en")]
    assert (r["topic"], r["queue"], r["outcome"]) == ("addiction", "addiction", "answered")
    r = got[("", "ru")]
    assert (r["topic"], r["queue"], r["route_reason"], r["outcome"]) == (None, "main", "no_input", "answered")
    r = got[("1,9,*", "ru")]
    assert (r["topic"], r["queue"], r["route_reason"], r["outcome"]) == (
        None,
        "main",
        "invalid_input",
        "answered",
    )
    assert not any(r["fallback"] for r in got.values())


def test_after_hours_goes_to_the_partner_line(service: Service, e2e_settings: Settings) -> None:
    service.start()
    before = record_ids(service)
    with tempfile.TemporaryDirectory() as tmp:
        scenario = Path(tmp) / "partner.xml"
        # Dialled with the partner's number; the callers' numbers (+7 900 000 …) never travel.
        scenario.write_text(partner_line_scenario("88001000001", forbidden="7900000"), encoding="ascii")
        partner = subprocess.Popen(
            ["sipp", "-sf", str(scenario), "-p", str(REFERRAL_PORT), "-i", "127.0.0.1",
             "-mi", "127.0.0.1", "-mp", "27000", "-m", "1", "-timeout", "60s", "-nostdin"],
            cwd=tmp, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )  # fmt: skip
        try:
            place(e2e_settings, [plan("15", hangup_after_ms=9000)], base=25600)  # Russian, legal: closed
            out, _ = partner.communicate(timeout=30)
        finally:
            if partner.poll() is None:
                partner.kill()
    assert partner.returncode == 0, out.decode(errors="replace")[-2000:]
    [r] = new_records(service, before, 1)
    assert (r["topic"], r["referral"], r["after_hours"], r["outcome"]) == (
        "legal",
        "legal-aid",
        True,
        "referred",
    )
    assert r["queue"] is None and r["ended_at"] is not None


def test_the_language_chosen_changes_the_prompts(service: Service, e2e_settings: Settings) -> None:
    service.start()
    before = record_ids(service)
    place(e2e_settings, [plan("13"), plan("23")], base=25700)
    got = {r["language"]: r for r in new_records(service, before, 2)}
    assert set(got) == {"ru", "en"}
    for r in got.values():  # each language's prompt files existed and played: no fallback
        assert (r["topic"], r["fallback"], r["outcome"]) == ("loss", False, "answered")
    draft = httpx.get(f"{service.url}/api/ivr/draft", headers=service.admin).json()
    assert draft["valid"] is True
    ru_root = httpx.post(
        f"{service.url}/api/ivr/simulate", headers=service.admin, json={"keys": ["1", ""]}
    ).json()
    en_root = httpx.post(
        f"{service.url}/api/ivr/simulate", headers=service.admin, json={"keys": ["2", ""]}
    ).json()
    assert "/ru/welcome-" in ru_root["steps"][1]["prompts"][0]
    assert "/en/welcome-" in en_root["steps"][1]["prompts"][0]


def _publish(service: Service, yaml_text: str, note: str) -> int:
    saved = httpx.put(f"{service.url}/api/ivr/draft/yaml", headers=service.admin, content=yaml_text.encode())
    assert saved.status_code == 200 and saved.json()["valid"], saved.text
    published = httpx.post(
        f"{service.url}/api/ivr/publish", headers=service.admin, json={"note": note}, timeout=30
    )
    assert published.status_code == 200, published.text
    return int(published.json()["version"])


async def _publish_during_calls(service: Service, settings: Settings) -> tuple[int, int]:
    client = httpx.AsyncClient(base_url=service.url, headers=service.admin, timeout=30)
    old_version = (await client.get("/healthz")).json()["ivr"]["version"]
    draft = (await client.get("/api/ivr/draft/yaml")).text
    changed = draft.replace("topic: loss", "topic: crisis")
    assert changed != draft
    # Inside the IVR when the new version goes live: Russian at 2.5 s, then "3" at 6.5 s.
    inside = asyncio.create_task(place_async(settings, [plan("13", gap_ms=4000)], base=25800))
    await asyncio.sleep(3)
    started = time.monotonic()
    new_version = await asyncio.to_thread(_publish, service, changed, "3 is crisis now")
    assert time.monotonic() - started < 3, "publishing took too long for this test's timing"
    after = await place_async(settings, [plan("13")], base=25900)
    first = await inside
    assert (first.failed, after.failed) == (0, 0)
    await client.aclose()
    return int(old_version), new_version


def test_publishing_while_callers_are_in_the_ivr(service: Service, e2e_settings: Settings) -> None:
    service.start()
    before = record_ids(service)
    old, new = asyncio.run(_publish_during_calls(service, e2e_settings))
    assert new > old
    got = {r["menu_version"]: r for r in new_records(service, before, 2)}
    assert (got[str(old)]["topic"], got[str(old)]["queue"]) == ("loss", "loss")  # finished on its version
    assert (got[str(new)]["topic"], got[str(new)]["queue"]) == ("crisis", "crisis")  # new calls: new one
    rolled = httpx.post(
        f"{service.url}/api/ivr/rollback", headers=service.admin, json={"version": old}, timeout=30
    )
    assert rolled.status_code == 200, rolled.text
    assert httpx.get(f"{service.url}/healthz").json()["ivr"]["version"] == old


async def _overflow_calls(settings: Settings) -> None:
    slow = asyncio.create_task(place_async(settings, [plan("16")], base=26100))  # waits in 'quiet'
    await asyncio.sleep(2)
    crowded = await place_async(settings, [plan("17")], base=26200)  # someone waits: straight on
    assert (crowded.failed, (await slow).failed) == (0, 0)


def test_overflow_after_a_wait_and_when_too_many_wait(service: Service, e2e_settings: Settings) -> None:
    service.start()
    before = record_ids(service)
    asyncio.run(_overflow_calls(e2e_settings))
    got = {r["topic"]: r for r in new_records(service, before, 2)}
    slow, crowded = got["slow"], got["crowded"]
    assert (slow["queue"], slow["overflowed"], slow["outcome"]) == ("main", True, "answered")
    assert 5 <= slow["wait_seconds"] < 9  # both queues: from the first entry to the answer
    assert (crowded["queue"], crowded["overflowed"], crowded["outcome"]) == ("main", True, "answered")
    assert crowded["wait_seconds"] < 3
