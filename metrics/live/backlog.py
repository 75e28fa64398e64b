"""The record writer's backlog on /metrics, read at scrape time (core/outbox.py's ``Backlog``,
no I/O):

- ``hotline_records_pending``: finished records not saved yet (the database away, or a batch on
  its way); ``hotline_records_oldest_pending_seconds``: how long the oldest of them has waited;
- ``hotline_records_saved_total``, ``hotline_records_rejected_total`` (refused by the database
  for their content, kept in rejected.jsonl beside the journal),
  ``hotline_records_journal_errors_total`` (the journal could not be written, synced or read),
  ``hotline_records_save_failures_total`` (tries to save that failed: each retry in an outage,
  each refusal).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from prometheus_client.core import Metric

from core.outbox import Backlog
from exposition.writer import ExposedCollector, FamilyText, Format


class BacklogCollector(ExposedCollector):
    def __init__(self, backlog: Callable[[], Backlog]) -> None:
        self._backlog = backlog
        self._pending = FamilyText("hotline_records_pending", "Finished call records not saved yet", "gauge")
        self._oldest = FamilyText(
            "hotline_records_oldest_pending_seconds", "How long the oldest unsaved record has waited", "gauge"
        )
        self._saved = FamilyText("hotline_records_saved", "Call records saved to the database", "counter")
        self._rejected = FamilyText(
            "hotline_records_rejected",
            "Call records the database refused, kept in the rejected file",
            "counter",
        )
        self._errors = FamilyText(
            "hotline_records_journal_errors", "Failures to write, sync or read the record journal", "counter"
        )
        self._failures = FamilyText(
            "hotline_records_save_failures", "Tries to save call records that failed (retried)", "counter"
        )

    def texts(self) -> Sequence[FamilyText]:
        return (self._pending, self._oldest, self._saved, self._rejected, self._errors, self._failures)

    def collect(self) -> Iterator[Metric]:
        for text, value in self._families():
            yield text.metric([((), value)])

    def exposition(self, fmt: Format) -> str:
        return "".join([text.header(fmt) + text.lines([((), value)]) for text, value in self._families()])

    def _families(self) -> list[tuple[FamilyText, float]]:
        b = self._backlog()
        return [
            (self._pending, float(b.pending)),
            (self._oldest, round(b.oldest_pending_seconds, 3)),
            (self._saved, float(b.saved_total)),
            (self._rejected, float(b.rejected_total)),
            (self._errors, float(b.journal_errors_total)),
            (self._failures, float(b.failed_tries_total)),
        ]
