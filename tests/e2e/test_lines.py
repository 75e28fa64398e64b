"""Issue 20 on the real Asterisk: each shipped line (lines/<line>/) serves real SIP calls.

For each line, the session's service makes way for one of the line's own: the e2e settings with
the line's IVR document as the seed of a fresh database, the line's speech speeds and its own var
dir. It renders the line's queues and dialplan into the session's sandbox Asterisk, whose
simulated operators answer every queue but the unstaffed ones. Synthetic callers then walk the
line's main paths, taken from its document (never hand-listed keys): a topic down each key of
the first menu, a language choice, "0" for a person, a referral to a partner line where keys
reach one after hours (while the line is open: once more on a version that makes today a
holiday), and silence. Each record must say what the menu's engine says of
those keys at that time (topic, queue, route reason, referral, language) and how the call ended;
the silent caller must reach a queue within the document's limit, measured from the records;
then no synthetic number may be in that service's database, files, API or the sandbox's files.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
import yaml

from core.settings import Settings, load_settings
from ivr.codec import from_yaml
from ivr.document import IvrDocument
from ivr.engine import Ask, Engine, Route, RouteKind
from ivr.prompts import PromptStudio, Voices
from ivr.silence import silent_walk
from sandbox.privacy_check import NAME, PrivacyCheck
from tests.conftest import ROOT
from tests.e2e.calls import plan, trace_dir
from tests.e2e.conftest import Service

pytestmark = [pytest.mark.asterisk, pytest.mark.beside]

LINES_DIR = ROOT / "lines"
LINES = sorted(p.name for p in LINES_DIR.iterdir() if (p / "hotline-ivr.yaml").is_file())
MAX_KEYS = 3  # the main paths: what a caller reaches in three keys at most
MAX_CALLS = 7  # a line's calls, silence included
# The callers' sipp ports (46000.., media 47000..48400, the partner line 46900): apart from every
# other test's, in either pytest of `make test` (the lines' test runs beside the rest).
BASE_PORT = 46000
KEY_GAP_MS = 2500  # CallPlan's default: the first key 2.5 s after the answer, then every 2.5 s
# A referred caller hears the route's announcement ("we connect you to a partner"), then talks to
# the partner line for about this long and hangs up.
PARTNER_TALK_MS = 5000
# What each line measured, printed at the end of the module (pytest -s shows it).
MEASURED: dict[str, str] = {}


def document(line: str) -> IvrDocument:
    return from_yaml((LINES_DIR / line / "hotline-ivr.yaml").read_text(encoding="utf-8"))


def engine(doc: IvrDocument) -> Engine:
    labels = {(p, lang): f"{lang}/{p}" for p, by_lang in doc.prompts.items() for lang in by_lang}
    return Engine(0, doc, labels)


def replay(doc: IvrDocument, keys: str, at: datetime) -> Ask | Route:
    """Where these keys lead at this time ('' for each key: silence at that menu)."""
    walk = engine(doc).walk(at)
    step: Ask | Route = walk.start()
    for key in keys:
        assert isinstance(step, Ask), f"keys {keys!r}: the walk ended before the last key"
        step = walk.answer(key)
    return step


def silent_route(doc: IvrDocument, at: datetime) -> Route:
    walk = engine(doc).walk(at)
    step: Ask | Route = walk.start()
    while isinstance(step, Ask):
        step = walk.answer("")
    return step


def routes_by_keys(doc: IvrDocument, at: datetime) -> dict[str, Route]:
    """Every key sequence of at most MAX_KEYS keys that ends at a route, the shortest first and
    each menu's keys in the document's order; "*" (back) left out."""
    out: dict[str, Route] = {}
    todo = [""]
    while todo:
        keys = todo.pop(0)
        step = replay(doc, keys, at)
        if isinstance(step, Route):
            out[keys] = step
        elif len(keys) < MAX_KEYS:
            todo += [keys + key for key in doc.menu.nodes[step.node].options if key != "*"]
    return out


@dataclass(frozen=True)
class CallPath:
    keys: str  # '' is the silent caller
    route: Route  # what the engine says of these keys at the time of the calls

    @property
    def referred(self) -> bool:
        return self.route.kind is RouteKind.REFERRAL


def main_paths(doc: IvrDocument, at: datetime) -> list[CallPath]:
    """Down each key of the first menu, the route that brings the most not yet called (a
    language first, then a topic, a queue, a referral; the shortest of equals); a referral
    reachable now if none is yet; silence. At most MAX_CALLS."""
    routes = routes_by_keys(doc, at)
    seen: set[tuple[str, str | None]] = set()

    def new(route: Route) -> tuple[bool, ...]:
        kinds = (("language", route.language), ("topic", route.topic), ("queue", route.queue),
                 ("referral", route.referral))  # fmt: skip
        return tuple(value is not None and (kind, value) not in seen for kind, value in kinds)

    chosen: list[CallPath] = []
    for first in doc.menu.nodes[doc.menu.entry].options:
        under = [CallPath(keys, route) for keys, route in routes.items() if keys.startswith(first)]
        if under:
            best = max(under, key=lambda p: new(p.route))  # the first of equals: the shortest
            chosen.append(best)
            seen.update({("language", best.route.language), ("topic", best.route.topic),
                         ("queue", best.route.queue), ("referral", best.route.referral)})  # fmt: skip
    referrals = [CallPath(k, r) for k, r in routes.items() if r.kind is RouteKind.REFERRAL]
    if referrals and not any(p.referred for p in chosen):
        chosen = [*chosen[: MAX_CALLS - 2], referrals[0]]
    return [*chosen[: MAX_CALLS - 1], CallPath("", silent_route(doc, at))]


def line_config(line: str, e2e_config: Path, e2e_settings: Settings, tmp: Path) -> Path:
    """The session's e2e settings (ports, sandbox, its AMI and FastAGI secrets) with the line's
    seed and speech, and a var dir and SQLite database of its own."""
    data = yaml.safe_load(e2e_config.read_text(encoding="utf-8"))
    own = yaml.safe_load((LINES_DIR / line / "hotline.yaml").read_text(encoding="utf-8"))
    var = tmp / "var"
    data.update(
        var_dir=str(var),
        database_url=f"sqlite:///{var / 'hotline.sqlite3'}",
        log_file=str(var / "log" / "hotline.log"),
        ivr_seed=str(LINES_DIR / line / "hotline-ivr.yaml"),
        tts=own.get("tts", {}),
    )
    # An operator for every caller in any one queue (at night a line's topics all go to its
    # duty queue), so that no caller waits for an operator's 30 s after-call work.
    data["sandbox"]["simulated_operators"] = MAX_CALLS
    secrets = e2e_settings.var_dir / "secrets"  # the session's development secrets, if made there
    for node in data["asterisk"]:
        if (secrets / f"ami-{node['name']}").is_file():
            node["ami_secret_file"] = str(secrets / f"ami-{node['name']}")
    if (secrets / "agi-secret").is_file():
        data["agi"]["secret_file"] = str(secrets / "agi-secret")
    path = tmp / "hotline.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


def prompt_seconds(doc: IvrDocument, settings: Settings, studio: Path) -> dict[str, float]:
    """Each prompt's real audio at the line's speeds, by '<language>/<prompt>' (the walk's labels)."""
    made = PromptStudio(studio, Voices.of(settings.tts))
    return {
        f"{lang}/{prompt}": made.synthesize(prompt, lang, source.text).duration_seconds
        for prompt, by_lang in doc.prompts.items()
        for lang, source in by_lang.items()
        if source.text is not None
    }


@pytest.fixture(scope="module")
def session_service_away(service: Service) -> Iterator[None]:
    """The session's service makes way for the lines' (the same ports) and comes back after
    them, re-rendering the session's own menu into the sandbox."""
    service.stop()
    began = time.monotonic()
    yield
    service.start(timeout=60)
    for line, figures in MEASURED.items():
        print(f"\n{line}: {figures}")
    print(f"\nthe lines' module: {time.monotonic() - began:.0f} s")


def closed_today(line: str, at: datetime) -> str:
    """The line's document with today (each schedule's own) a holiday: every topic with a
    schedule after hours, as on a night or a Sunday."""
    data = yaml.safe_load((LINES_DIR / line / "hotline-ivr.yaml").read_text(encoding="utf-8"))
    for schedule in data.get("schedules", []):
        today = at.astimezone(ZoneInfo(schedule.get("timezone", "Europe/Moscow"))).date()
        schedule["holidays"] = sorted({*schedule.get("holidays", []), today})
    return yaml.safe_dump(data, allow_unicode=True, sort_keys=False)


def publish(svc: Service, text: str, note: str) -> int:
    saved = httpx.put(f"{svc.url}/api/ivr/draft/yaml", headers=svc.admin, content=text.encode(), timeout=30)
    assert saved.status_code == 200 and saved.json()["valid"], saved.text
    done = httpx.post(f"{svc.url}/api/ivr/publish", headers=svc.admin, json={"note": note}, timeout=60)
    assert done.status_code == 200, done.text
    return int(done.json()["version"])


def call(
    line: str, check: PrivacyCheck, paths: list[CallPath], seconds: dict[str, float]
) -> tuple[list[str], dict[str, dict[str, Any]]]:
    """Place one caller per path (a partner line answers the referrals); check each record
    against the engine's route. The numbers used, and the records by path."""
    before = check.record_ids()

    def hangup_ms(p: CallPath) -> int | None:  # the referred leave; the others wait for an operator
        heard = sum(seconds.get(label, 1.0) for label in p.route.announce)
        return KEY_GAP_MS * len(p.keys) + int(heard * 1000) + PARTNER_TALK_MS if p.referred else None

    plans = [plan(p.keys, hangup_after_ms=hangup_ms(p)) for p in paths]
    referrals = [p for p in paths if p.referred]
    partner = referrals[0].route.referral_number if referrals else None
    assert all(p.route.referral_number == partner for p in referrals), "one partner line at a time"
    completed, failed = asyncio.run(
        check.place(plans, base_port=BASE_PORT, partner_calls=len(referrals), partner_number=partner)
    )
    assert (completed, failed) == (len(plans), 0), f"{line}: a caller did not get through"
    got = check.new_records(before, len(plans), timeout=60)
    by_path = {r["path"]: r for r in got}
    assert len(got) == len(plans) and set(by_path) == {p.route.path for p in paths}, got
    for p in paths:
        r, route = by_path[p.route.path], p.route
        expected = {
            "topic": route.topic,
            "queue": None if p.referred else route.queue,
            "route_reason": route.reason.value,
            "referral": route.referral,
            "after_hours": route.after_hours,
            "language": route.language,
            "fallback": False,
            "outcome": "referred" if p.referred else "answered",
        }
        assert {k: r[k] for k in expected} == expected, f"{line}, keys {p.keys!r}: {r}"
    return [p.number for p in plans], by_path


@pytest.mark.parametrize("line", LINES)
def test_the_line_serves_real_calls(
    line: str,
    session_service_away: None,
    e2e_config: Path,
    e2e_settings: Settings,
    tmp_path: Path,
) -> None:
    began = time.monotonic()
    doc = document(line)
    config = line_config(line, e2e_config, e2e_settings, tmp_path)
    settings = load_settings(config)
    svc = Service(config, settings.var_dir / "log" / "service-output.log")
    try:
        svc.start(timeout=60)
        ivr = httpx.get(f"{svc.url}/healthz", headers=svc.admin, timeout=30).json()["ivr"]
        assert ivr["version"] == 1, ivr  # the line's document, imported into a fresh database
        check = PrivacyCheck(settings, timeout=90, trace_dir=trace_dir(), token=svc.token)
        at = datetime.now(UTC)
        paths = main_paths(doc, at)
        seconds = prompt_seconds(doc, settings, tmp_path / "studio")
        numbers, by_path = call(line, check, paths, seconds)
        keys = [p.keys for p in paths]

        silent = by_path[paths[-1].route.path]
        started, ivr_ended, queued = (
            datetime.fromisoformat(silent[k]) for k in ("started_at", "ivr_ended_at", "queue_entered_at")
        )
        measured = (queued - started).total_seconds()
        # ivr/silence.py's figure, with the prompts' real audio
        computed = silent_walk(doc, lambda p, lang: seconds.get(f"{lang}/{p}"), at=at).seconds
        limit = doc.silence_limit_seconds
        in_ivr = (ivr_ended - started).total_seconds()
        MEASURED[line] = (
            f"silent caller queued after {measured:.1f} s (IVR {in_ivr:.1f} s),"
            f" computed {computed:.1f} s, limit {limit} s"
        )
        assert measured <= limit, f"{line}: {MEASURED[line]}"

        if not any(p.referred for p in paths):  # open now: the after-hours referral on a holiday
            closed = closed_today(line, at)
            at = datetime.now(UTC)
            routes = routes_by_keys(from_yaml(closed), at)
            referrals = [CallPath(k, r) for k, r in routes.items() if r.kind is RouteKind.REFERRAL]
            if referrals:
                publish(svc, closed, "today a holiday: the after-hours referral")
                more, _ = call(line, check, referrals[:1], seconds)
                numbers += more
                keys.append(f"{referrals[0].keys} (on a holiday)")

        report = check.scan(numbers, [NAME])
        assert not report.findings, "\n".join(report.lines())
    finally:
        svc.stop()
    MEASURED[line] = f"keys {keys}; {MEASURED[line]}; {time.monotonic() - began:.0f} s for the line"
