"""Records saved per second through ``RecordStore.save_many``, batches of 200 as the record
writer sends them, on a fresh SQLite file and a fresh PostgreSQL database (migrations applied).

    .venv/bin/python bench/record_store.py                # 20,000 records, both databases
    .venv/bin/python bench/record_store.py --only sqlite --records 5000

The calls arrive one every 0.4 s over 8 queues (so a batch touches a few quarter-hours, as on
a busy line); figures: the median batch over ``--repeat`` fresh databases, for new records and
for the same records saved a second time (an upsert of every record). Only the store's public
API is used, so the script measures any revision of it.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from core.db import make_engine, migrate
from metrics.records.record import CallRecord, Outcome
from metrics.records.store import RecordStore

PG_ADMIN = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
QUEUES = ("main", "crisis", "violence", "loss", "addiction", "legal", "social", "senior")
BATCH = 200
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def calls(count: int, seed: int = 6) -> list[CallRecord]:
    rng = random.Random(seed)
    out = []
    for i in range(count):
        start = T0 + timedelta(seconds=0.4 * i)
        queue = rng.choice(QUEUES)
        answered = rng.random() < 0.85
        wait = round(rng.expovariate(1 / 25), 3)
        out.append(
            CallRecord(
                id=uuid.uuid4().hex,
                node="local",
                call_id=f"{start.timestamp():.1f}.{i}",
                started_at=start,
                ivr_ended_at=start + timedelta(seconds=8),
                queue_entered_at=start + timedelta(seconds=8),
                answered_at=start + timedelta(seconds=8 + wait) if answered else None,
                ended_at=start + timedelta(seconds=400),
                language="en",
                menu_version="1",
                path="1",
                topic=queue,
                queue=queue,
                route_reason="menu",
                outcome=Outcome.ANSWERED if answered else Outcome.ABANDONED_IN_QUEUE,
                wait_seconds=wait,
                talk_seconds=round(rng.expovariate(1 / 600), 3) if answered else None,
                operator=f"op-{rng.randrange(40)}" if answered else None,
                wrapup_seconds=30.0 if answered else None,
            )
        )
    return out


@contextmanager
def database(kind: str) -> Iterator[Engine]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="hotline-store-") as folder:
            engine = make_engine(f"sqlite:///{folder}/store.sqlite3")
            migrate(engine)
            yield engine
            engine.dispose()
        return
    name = f"hotline_bench_store_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}")
    try:
        migrate(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
        admin.dispose()


def batch_seconds(store: RecordStore, records: list[CallRecord]) -> list[float]:
    times = []
    for first in range(0, len(records), BATCH):
        began = time.perf_counter()
        store.save_many(records[first : first + BATCH])
        times.append(time.perf_counter() - began)
    return times


def run(kind: str, count: int, repeat: int) -> None:
    records = calls(count)
    new: list[float] = []
    again: list[float] = []
    for _ in range(repeat):
        with database(kind) as engine:
            store = RecordStore(engine)
            new += batch_seconds(store, records)
            again += batch_seconds(store, records)
    for label, times in (("new records", new), ("saved again", again)):
        median = statistics.median(times)
        print(
            f"{kind:10s} {label:12s} {median * 1000:7.2f} ms per batch of {BATCH}"
            f"  {BATCH / median:9,.0f} records/s  (p90 {statistics.quantiles(times, n=10)[-1] * 1000:.2f} ms)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--only", choices=["postgresql", "sqlite"])
    args = parser.parse_args()
    for kind in ("postgresql", "sqlite"):
        if args.only in (None, kind):
            run(kind, args.records, args.repeat)


if __name__ == "__main__":
    main()
