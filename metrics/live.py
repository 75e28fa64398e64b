"""Live queue state per node, from queue events and QueueStatus snapshots."""

from __future__ import annotations

from collections import defaultdict

from telephony.events import AmiEvent, QueueCallerJoin, QueueCallerLeave, QueueSnapshot


class QueueBoard:
    """Calls waiting per queue; a snapshot after every (re)connect replaces a node's view."""

    def __init__(self) -> None:
        self._waiting: dict[str, dict[str, int]] = defaultdict(dict)

    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, QueueCallerJoin | QueueCallerLeave):
            self._waiting[event.node][event.queue] = max(event.count, 0)
        elif isinstance(event, QueueSnapshot):
            self._waiting[event.node] = {p.queue: p.calls for p in event.params}

    def waiting(self) -> dict[str, int]:
        """Queue -> calls waiting, summed over nodes."""
        total: dict[str, int] = defaultdict(int)
        for queues in self._waiting.values():
            for queue, count in queues.items():
                total[queue] += count
        return dict(total)
