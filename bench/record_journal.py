"""Records per second through the record writer with its journal (append on the event loop,
fsync per batch, unlink after the commit) against the same writer without one (the baseline),
in the same run, rounds alternating, on a fresh SQLite file and a fresh PostgreSQL database
(127.0.0.1:5432, skipped when none answers).

    .venv/bin/python bench/record_journal.py                 # 20,000 records x 3 rounds per variant
    .venv/bin/python bench/record_journal.py --records 5000 --rounds 1 --only sqlite

Each round: a fresh database (migrated) and journal folder, ``--records`` finished calls handed
to ``RecordWriter.submit`` on the event loop as fast as it takes them, then ``flush`` (every
record committed). Printed per database and variant: the median round's records/s, the loop
thread's CPU time per ``submit`` (what a call's end costs the loop that serves FastAGI and AMI),
the ratio to the baseline, and ``replay``: the same records left in a journal by a "crashed"
writer and saved by the next one at start; then the journal's append alone (wall time, no
worker busy). The machine's load average is printed before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from record_store import PG_ADMIN, calls, database  # the same records and fresh databases as that bench's

from core.journal import Journal
from metrics.records.journal import encode
from metrics.records.record import CallRecord
from metrics.records.store import RecordStore
from metrics.records.writer import RecordWriter

QUEUES = ("main", "crisis", "violence", "loss", "addiction", "legal", "social", "senior")
T0 = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)


def postgres_available() -> bool:
    try:
        with create_engine(PG_ADMIN).connect() as conn:
            conn.execute(text("select 1"))
    except Exception:
        return False
    return True


@dataclass
class Figures:
    rates: list[float] = field(default_factory=list)  # records/s, one per round
    submits: list[float] = field(default_factory=list)  # seconds of event loop per submit

    def rate(self) -> float:
        return statistics.median(self.rates)

    def submit_us(self) -> float:
        return statistics.median(self.submits) * 1e6


async def through_writer(
    engine: Engine, records: list[CallRecord], journal: Path | None
) -> tuple[float, float]:
    """(records/s from the first submit to the last commit, the loop thread's CPU seconds per
    submit: its wall time would also count waiting for the GIL while the worker builds SQL)."""
    writer = RecordWriter(RecordStore(engine), journal)
    began = time.perf_counter()
    in_submit = 0.0
    for record in records:
        t = time.thread_time()
        writer.submit(record)
        in_submit += time.thread_time() - t
        await asyncio.sleep(0)  # the loop runs between calls' ends, as in service
    await writer.flush()
    elapsed = time.perf_counter() - began
    await writer.close()
    return len(records) / elapsed, in_submit / len(records)


async def replayed(engine: Engine, records: list[CallRecord], folder: Path) -> float:
    """Records/s of a start that finds ``records`` in its journal (segments of 200, as written)."""
    journal = Journal(folder)
    for first in range(0, len(records), 200):
        for record in records[first : first + 200]:
            journal.append(encode(record))
        journal.sync(journal.seal())
    writer = RecordWriter(RecordStore(engine), folder)
    began = time.perf_counter()
    count = await writer.replay(wait=3600)
    elapsed = time.perf_counter() - began
    await writer.close()
    assert count == len(records) and not segments(folder), "replay incomplete"
    return len(records) / elapsed


def segments(folder: Path) -> list[Path]:
    return list(folder.glob("journal-*"))


def append_alone(records: list[CallRecord], folder: Path) -> float:
    """Seconds per record of the journal's part of ``submit`` (wall time, no worker busy)."""
    journal = Journal(folder)
    began = time.perf_counter()
    for record in records:
        journal.append(encode(record))
    return (time.perf_counter() - began) / len(records)


async def run(kind: str, count: int, rounds: int) -> None:
    records = calls(count)
    figures = {"baseline (no journal)": Figures(), "journal": Figures(), "replay at start": Figures()}
    alone: list[float] = []
    for _ in range(rounds):
        for label, figs in figures.items():  # alternating, so a load change hits every row alike
            scratch = Path(tempfile.mkdtemp(prefix="hotline-bench-journal-"))
            try:
                with database(kind) as engine:
                    if label == "replay at start":
                        figs.rates.append(await replayed(engine, records, scratch / "records"))
                        alone.append(append_alone(records, scratch / "alone"))
                        continue
                    journal = scratch / "records" if label == "journal" else None
                    rate, per_submit = await through_writer(engine, records, journal)
                    figs.rates.append(rate)
                    figs.submits.append(per_submit)
            finally:
                shutil.rmtree(scratch, ignore_errors=True)
    base = figures["baseline (no journal)"]
    print(f"\n## {kind}: {count:,} records, {rounds} round(s) per row, median round")
    for label, figs in figures.items():
        submit = f"submit {figs.submit_us():5.1f} µs loop CPU" if figs.submits else " " * 25
        ratio = f"{figs.rate() / base.rate():.2f}x baseline" if figs is not base else "baseline"
        print(f"{label:24s} {figs.rate():9,.0f} records/s   {submit}   {ratio}")
    print(f"journal append alone, no worker busy: {statistics.median(alone) * 1e6:.1f} µs per record")


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--records", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", choices=["postgresql", "sqlite"])
    args = parser.parse_args()
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {load()} (before)")
    for kind in ("sqlite", "postgresql"):
        if args.only not in (None, kind):
            continue
        if kind == "postgresql" and not postgres_available():
            print("\n## postgresql: no server on 127.0.0.1:5432, skipped")
            continue
        asyncio.run(run(kind, args.records, args.rounds))
    print(f"\n{load()} (after)")


if __name__ == "__main__":
    main()
