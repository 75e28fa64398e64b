"""Issue 22, item 3 on the real Asterisk: two service instances on one private PostgreSQL, either
killed (SIGKILL) in the middle of a burst of calls.

Instance A is Asterisk's first FastAGI target and the first leader; B is the second target.
Callers press one key again and again (a caller walked again on B after A died mid-walk
chooses the same topic wherever the walk starts). Killing A: it dies while some callers are
still in its IVR and others wait in queues it routed them to, and B takes the lead. Killing
B: A walks and leads on. A second wave comes after the kill. Every call is routed by its topic
(the queue it joined is its topic's), and the database holds exactly one record per call, with
its topic, counted once in the interval cells."""

from __future__ import annotations

import asyncio
import json
import shutil
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import Engine, create_engine, text

from core.settings import Settings
from dialplan.live import live_document
from metrics.records import inflight
from metrics.records.assembler import OpenCall
from sandbox.asterisk import Sandbox
from sandbox.callgen import Callgen, CallgenResult
from tests.e2e.calls import NUMBERS, plan, trace_dir
from tests.e2e.conftest import HTTP_PORT, PORT_OFFSET, Service
from tests.pg_private import PrivatePostgres

pytestmark = [pytest.mark.asterisk, pytest.mark.beside]  # about 90 s, mostly waiting on calls

AGI_A, AGI_B = 14573 + PORT_OFFSET, 14583 + PORT_OFFSET  # A's is the session service's
HTTP_B = 18090 + PORT_OFFSET
SIPP = 51000 + PORT_OFFSET  # this test's callers: 51000-51999 (+ the offset beside)
ROUTED_BEFORE_KILL = 3  # A dies once it has routed this many callers (the last ones are still in its IVR)
# key pressed again and again -> (topic, queue)
TOPICS = {"1": ("crisis", "crisis"), "3": ("loss", "loss"), "4": ("addiction", "addiction")}
FIRST_WAVE, SECOND_WAVE = {"1": 8, "3": 8, "4": 8}, {"4": 4}


@dataclass
class Instance(Service):
    http_port: int = HTTP_PORT

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    def log(self) -> str:
        return self.log_file.read_text(errors="replace") if self.log_file.exists() else ""


def _config(
    base: dict[str, Any], tmp: Path, name: str, database_url: str, ports: tuple[int, int, int], secrets: Path
) -> Path:
    """One instance's settings: its own var dir (the session's secrets: the same AGI secret,
    AMI secret and first admin), ports and backup target; the shared database."""
    agi, backup, http = ports
    data = dict(base)
    var = tmp / name / "var"
    shutil.copytree(secrets, var / "secrets")
    data.update(
        var_dir=str(var),
        log_file=str(var / "log" / "hotline.log"),
        database_url=database_url,
        agi={"host": "127.0.0.1", "port": agi, "backup_host": "127.0.0.1", "backup_port": backup},
        http={"host": "127.0.0.1", "port": http},
    )
    path = tmp / f"hotline-{name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


@pytest.fixture
def two_instances(
    service: Service,
    e2e_config: Path,
    e2e_settings: Settings,
    sandbox: Sandbox,
    private_postgres_server: PrivatePostgres,
    tmp_path: Path,
) -> Iterator[tuple[Instance, Instance, Engine]]:
    service.stop()  # A takes the session service's FastAGI and HTTP ports
    private_postgres_server.start()
    url = private_postgres_server.create_database()
    base = yaml.safe_load(e2e_config.read_text(encoding="utf-8"))
    secrets = e2e_settings.var_dir / "secrets"
    a_path = _config(base, tmp_path, "a", url, (AGI_A, AGI_B, HTTP_PORT), secrets)
    b_path = _config(base, tmp_path, "b", url, (AGI_B, AGI_A, HTTP_B), secrets)
    a = Instance(a_path, tmp_path / "a" / "output.log")
    b = Instance(b_path, tmp_path / "b" / "output.log", http_port=HTTP_B)
    engine = create_engine(url)
    try:
        a.start(timeout=90)  # a fresh database: A publishes the seed, rendering both targets
        b.token, b.actor = a.token, a.actor  # one database, one admin: B needs no token of its own
        b.start(timeout=60)
        yield a, b, engine
    finally:
        for instance in (a, b):
            instance.stop()
        engine.dispose()
        # The session's dialplan back (one target), for the tests after this one.
        sandbox.render(live_document(e2e_settings))
        sandbox.cli("dialplan reload")


def _plans(wave: dict[str, int]) -> list[Any]:
    # Keys 2.5 s apart for 20 s: whichever menu a walk starts in, the same topic comes out.
    return [plan(key * 8) for key, n in wave.items() for _ in range(n)]


def _open_calls(instance: Instance) -> list[OpenCall]:
    """The calls an instance has open (its in-flight file: metrics/records/inflight.py)."""
    path = Path(yaml.safe_load(instance.config.read_text())["var_dir"]) / "records" / inflight.FILE_NAME
    states: dict[str, OpenCall] = {}
    for line in path.read_text(encoding="utf-8").splitlines() if path.exists() else []:
        entry = json.loads(line)
        if "closed" in entry:
            states.pop(entry["closed"][1], None)
        else:
            state = inflight.decode(entry["open"])
            states[state.record.call_id] = state
    return list(states.values())


def _routed(calls: list[OpenCall]) -> int:
    return sum(state.record.ivr_ended_at is not None for state in calls)


async def _burst(settings: Settings, a: Instance, victim: Instance) -> tuple[int, int]:
    """The first wave; ``victim`` killed in its middle, once A has routed a few callers; the
    second wave on the survivor alone. Returns (completed, failed)."""
    sip, trace = settings.sandbox.sip_port, trace_dir()
    # sipp: signalling SIPP+i, media SIPP+100+200*i for the first wave's three key shapes
    first = Callgen(port=sip, local_port_base=SIPP, media_port_base=SIPP + 100, trace_dir=trace)
    second = Callgen(port=sip, local_port_base=SIPP + 10, media_port_base=SIPP + 700, trace_dir=trace)
    placing = asyncio.create_task(first.place(_plans(FIRST_WAVE), concurrency=30, rate=12, timeout_s=150))
    began = time.monotonic()
    for _ in range(300):  # at most 30 s
        if _routed(_open_calls(a)) >= ROUTED_BEFORE_KILL:
            break
        await asyncio.sleep(0.1)
    assert victim.proc is not None
    victim.proc.kill()  # SIGKILL: no goodbye, its open FastAGI sessions and AMI link just end
    await asyncio.to_thread(victim.proc.wait)
    if victim is not a:  # B only followed: A walks every caller and leads on
        return await _rest(second, placing)
    at_death = _open_calls(a)
    routed, walking = _routed(at_death), len(at_death) - _routed(at_death)
    print(
        f"A killed {time.monotonic() - began:.1f} s in: {routed} callers routed by it, {walking} in its IVR"
    )
    # Both kinds: B records the first from the route on the channel, walks the others again.
    assert routed >= ROUTED_BEFORE_KILL and walking >= 1, (routed, walking)
    return await _rest(second, placing)


async def _rest(second: Callgen, placing: asyncio.Task[CallgenResult]) -> tuple[int, int]:
    later = await second.place(_plans(SECOND_WAVE), concurrency=10, rate=10, timeout_s=150)
    earlier = await placing
    return earlier.successful + later.successful, earlier.failed + later.failed


def _records(engine: Engine, expected: int, timeout: float = 60) -> list[Any]:
    deadline = time.monotonic() + timeout
    query = text("SELECT node, call_id, topic, queue, fallback, outcome, complete FROM call_records")
    while True:
        with engine.connect() as conn:
            rows = list(conn.execute(query))
        if len(rows) >= expected or time.monotonic() > deadline:
            time.sleep(2)  # a surplus record would show now
            with engine.connect() as conn:
                return list(conn.execute(query))
        time.sleep(0.5)


@pytest.mark.parametrize("victim", ["first", "second"])
def test_killing_one_instance_mid_burst_keeps_topics_and_one_record_per_call(
    two_instances: tuple[Instance, Instance, Engine],
    e2e_settings: Settings,
    sandbox: Sandbox,
    victim: str,
) -> None:
    a, b, engine = two_instances
    rendered = (e2e_settings.asterisk[0].config_dir or Path()) / "extensions.conf"
    assert f"agi://127.0.0.1:{AGI_B}/ivr" in rendered.read_text(), "the second target is not rendered"
    loaded = sandbox.cli("dialplan show hotline-operators") + sandbox.cli("dialplan show hotline-served")
    assert f"agi://127.0.0.1:{AGI_B}/operator" in loaded and f"agi://127.0.0.1:{AGI_B}/survey" in loaded
    assert "leadership taken" in a.log() and "leadership taken" not in b.log()
    began = time.monotonic()
    completed, failed = asyncio.run(_burst(e2e_settings, a, a if victim == "first" else b))
    calls = sum(FIRST_WAVE.values()) + sum(SECOND_WAVE.values())
    assert (completed, failed) == (calls, 0), "a caller did not reach a human"
    if victim == "first":
        assert "leadership taken" in b.log(), "B did not take the lead after A died"
    else:
        assert a.proc is not None and a.proc.poll() is None and "leadership taken" not in b.log()
    rows = _records(engine, calls)
    print(f"{calls} calls, all ended in {time.monotonic() - began:.0f} s")
    assert len(rows) == calls == len({(r.node, r.call_id) for r in rows})  # one record per call
    wanted = Counter({TOPICS[k]: n for k, n in FIRST_WAVE.items()}) + Counter(
        {TOPICS[k]: n for k, n in SECOND_WAVE.items()}
    )
    assert Counter((r.topic, r.queue) for r in rows) == wanted  # routed by topic, every one
    assert not [r for r in rows if r.fallback or r.outcome != "answered" or not r.complete]
    with engine.connect() as conn:
        counted = conn.execute(text("SELECT sum(calls), sum(answered) FROM call_intervals")).one()
    assert tuple(counted) == (calls, calls)  # the cells count each call once
    for instance in (a, b):
        logs = instance.log() + (instance.log_file.parent / "var" / "log" / "hotline.log").read_text(
            errors="replace"
        )
        assert not [n for n in NUMBERS if n in logs], "a caller's number reached a log"
