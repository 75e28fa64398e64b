"""The service's own upkeep on /metrics: background tasks that failed or were restarted (read
from core.tasks' supervisor at scrape time) and Asterisk nodes with operator changes waiting.

- ``hotline_task_failures_total{task}``: failures of a background task, or of one try of its
  retry loop (a database or AMI error), and ``task="event-loop"`` for what reached the loop's
  exception handler;
- ``hotline_task_restarts_total{task}``: restarts of a supervised task after a failure;
- ``hotline_asterisk_changes_pending{node}``: operators whose account change waits for the node
  (unreachable when it was made); 0 once it is applied.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence

from prometheus_client.core import Metric

from core.tasks import TaskSupervisor
from exposition.writer import ExposedCollector, FamilyText, Format

Series = list[tuple[tuple[str, ...], float]]


class UpkeepCollector(ExposedCollector):
    def __init__(
        self,
        tasks: TaskSupervisor,
        pending: Callable[[], Mapping[str, int]] = dict,
    ) -> None:
        self._tasks = tasks
        self._pending = pending
        task, node = ("task",), ("node",)
        self._failures = FamilyText(
            "hotline_task_failures",
            "Failures of a background task or of one try of its retry loop",
            "counter",
            task,
        )
        self._restarts = FamilyText(
            "hotline_task_restarts",
            "Restarts of a supervised background task after a failure",
            "counter",
            task,
        )
        self._waiting = FamilyText(
            "hotline_asterisk_changes_pending",
            "Operators whose account change waits to be applied to the node",
            "gauge",
            node,
        )

    def texts(self) -> Sequence[FamilyText]:
        return (self._failures, self._restarts, self._waiting)

    def collect(self) -> Iterator[Metric]:
        for text, series in self._families():
            yield text.metric(series)

    def exposition(self, fmt: Format) -> str:
        return "".join([text.header(fmt) + text.lines(series) for text, series in self._families()])

    def _families(self) -> list[tuple[FamilyText, Series]]:
        return [
            (self._failures, _sorted(self._tasks.failures)),
            (self._restarts, _sorted(self._tasks.restarts)),
            (self._waiting, _sorted(self._pending())),
        ]


def _sorted(counts: Mapping[str, int]) -> Series:
    return [((name,), float(value)) for name, value in sorted(counts.items())]
