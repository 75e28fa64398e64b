"""Calls that went on to another node of the line (overflow between regions, dialplan/
render_nodes.py): one call, one record.

The receiving node knows the call under an id of its own; its dialplan announces where the call
began (a ``HotlineHandover`` user event: telephony/events.Handover). From then on every event of
that id continues the record of the call where it began.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict

from core.types import CallRef
from telephony.events import AmiEvent, BaseEvent, Handover


class Handovers:
    """This node's call id -> where the call began; the oldest forgotten past ``remember``."""

    def __init__(self, remember: int) -> None:
        self._began: OrderedDict[CallRef, CallRef] = OrderedDict()
        self._remember = remember

    def began(self, call: CallRef) -> CallRef:
        """Where ``call`` began (itself unless it came from another node)."""
        return self._began.get(call, call)

    def follow(self, event: AmiEvent) -> AmiEvent:
        """A Handover is noted; an event of a call handed over becomes one of the call where it
        began (the same event, its node and call id those of the first node)."""
        if isinstance(event, Handover):
            here, began = CallRef(event.node, event.call_id), CallRef(event.from_node, event.from_call)
            if here != began:
                self._began[here] = self.began(began)  # a second hop: still where it began
                while len(self._began) > self._remember:
                    self._began.popitem(last=False)
            return event
        if isinstance(event, BaseEvent) and (first := self._began.get(CallRef(event.node, event.call_id))):
            return dataclasses.replace(event, node=first.node, call_id=first.call_id)
        return event
