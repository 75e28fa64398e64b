"""Acceptance of issue 5 on the real Asterisk: 110 calls at once with mixed fates (answered,
abandoned in the queue, hung up in the IVR, after hours to a partner line) leave exactly one
record each, each with the right outcome, and the privacy check finds none of their numbers."""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import pytest

from core.settings import Settings
from sandbox.privacy_check import NAME, PrivacyCheck
from tests.e2e.calls import NUMBERS, plan
from tests.e2e.conftest import Service

pytestmark = pytest.mark.asterisk

# (keys, caller hangs up after ms) -> calls, and the record each must leave:
# (outcome, topic, after_hours). Keys in tests/e2e/ivr.yaml: 1 ru / 2 en, then the topic.
MIX: dict[tuple[str, int | None], tuple[int, tuple[str, str | None, bool]]] = {
    ("11", None): (8, ("answered", "crisis", False)),
    ("13", None): (4, ("answered", "loss", False)),
    ("23", None): (4, ("answered", "loss", False)),
    ("24", None): (8, ("answered", "addiction", False)),
    ("221", None): (6, ("answered", "violence-home", False)),
    ("", None): (6, ("answered", None, False)),  # silence: a human on the default queue
    ("16", 8000): (25, ("abandoned_in_queue", "slow", False)),  # nobody staffs 'quiet'; gone at 8 s
    ("", 1500): (29, ("abandoned_in_ivr", None, False)),
    ("15", 9000): (20, ("referred", "legal", True)),  # closed: the partner line answers
}


def test_a_hundred_calls_leave_one_right_record_each_and_no_number(
    service: Service, e2e_settings: Settings
) -> None:
    service.start()
    check = PrivacyCheck(e2e_settings, timeout=80)
    before = check.record_ids()
    plans = [plan(keys, hangup_after_ms=ms) for (keys, ms), (n, _) in MIX.items() for _ in range(n)]
    referrals = sum(n for (keys, _), (n, _) in MIX.items() if keys == "15")
    started = time.monotonic()
    completed, failed = asyncio.run(check.place(plans, base_port=27100, partner_calls=referrals))
    assert (completed, failed) == (len(plans), 0)
    got = check.new_records(before, len(plans))
    print(f"{len(plans)} calls placed and recorded in {time.monotonic() - started:.1f} s")
    assert len(got) == len(plans) == 110
    outcomes = Counter((r["outcome"], r["topic"], r["after_hours"]) for r in got)
    expected: Counter[tuple[str, str | None, bool]] = Counter()
    for n, fate in MIX.values():
        expected[fate] += n
    assert outcomes == expected
    assert all(r["complete"] for r in got)
    answered = [r for r in got if r["outcome"] == "answered"]
    assert all(r["operator"].startswith(f"sim-{r['queue']}-") and r["talk_seconds"] >= 2 for r in answered)
    assert all(r["queue"] == "quiet" and 0 < r["wait_seconds"] < 5 for r in got if r["topic"] == "slow")

    report = check.scan(NUMBERS, [NAME])
    print("\n".join(report.lines()))
    assert report.findings == []
    assert report.scanned["HTTP responses"] >= 6 and report.scanned["database tables"] >= 5
