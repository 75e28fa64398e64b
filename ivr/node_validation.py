"""Rules of queues that live on one Asterisk node (region) of several (``queues[].node``).

A queue without ``node`` lives on every node, each with its own operators; a queue with one lives
there only, and a call for it from another node crosses the trunk between nodes. Whether the
named node exists is the settings' business: rendering refuses an unknown one
(dialplan/render_nodes.py).
"""

from __future__ import annotations

from collections.abc import Iterable

from ivr.document import IvrDocument
from ivr.issues import Issue


def check_queue_nodes(doc: IvrDocument) -> Iterable[Issue]:
    fallback = doc.queue(doc.fallback_queue)
    if fallback is not None and fallback.node is not None:
        yield Issue(
            f"queue {fallback.name}",
            "is the fallback queue: it must live on every node (no 'node'), where callers land"
            " when the IVR or the trunk between nodes fails",
        )
    escalation = doc.queue(doc.escalation_queue) if doc.escalation_queue else None
    if escalation is not None and escalation.node is not None:
        yield Issue(
            f"queue {escalation.name}",
            "is the escalation queue: it must live on every node (no 'node'), where operators hand"
            " callers on",
        )
