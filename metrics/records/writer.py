"""The record writer: finished records go through a durable outbox (core/outbox.py) to the
record store, so a database outage, a crash or a stop never loses one.

``submit`` (on the event loop) appends the record to the journal in ``journal_dir`` (one
``os.write``) and to a batch; one worker thread fsyncs the batch's segment, saves the batch in
one transaction (:meth:`RecordStore.save_many`, idempotent by node and call id, cells included)
and removes the segment after the commit. With the database away the records wait, in order,
retried with backoff; a record the database refuses for its content is kept in
``rejected.jsonl`` beside the journal. ``replay`` at start saves what an earlier process left.
Without ``journal_dir`` the records wait in memory only (tests, benchmarks).
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.db import is_outage
from core.journal import Journal
from core.outbox import Backlog, Outbox
from metrics.records.journal import CODEC
from metrics.records.record import CallRecord
from metrics.records.store import RecordStore

__all__ = ["Backlog", "RecordWriter"]
log = logging.getLogger("hotline.records")


class RecordWriter(Outbox[CallRecord]):
    def __init__(
        self,
        store: RecordStore,
        journal_dir: Path | None = None,
        *,
        batch_size: int = 200,
        interval: float = 0.25,
        backoff: tuple[float, float] = (0.5, 30.0),
    ) -> None:
        journal = Journal(journal_dir) if journal_dir is not None else None
        super().__init__(
            store.save_many,
            CODEC,
            journal,
            is_outage,
            name="record",
            batch_size=batch_size,
            interval=interval,
            backoff=backoff,
        )
