"""The FastAGI ``twilio`` script (issue 21): a caller who walked the IVR on a Twilio number
arrives at Asterisk's endpoint for Twilio (pjsip.conf ``hotline-twilio``), and the dialplan's
``hotline-twilio`` context asks this script where the caller goes.

The route is the one the walk ended with (ivr/twilio_voice.py keeps it under our call reference,
which the INVITE carries as ``X-Hotline-Call``), set as the channel variables the FastAGI IVR
sets, so the queue, priority, overflow and survey are the same as for a caller on Asterisk. The
call's record goes on under the Asterisk call (:meth:`CallAssembler.rejoin`): one record per
call. A call this process does not know (it restarted since the webhook, or another process
served it) is routed by the INVITE's ``X-Hotline-Queue`` and ``X-Hotline-Priority``, checked
against the live document: a queue it does not have, or no headers, leaves the dialplan's
fallback. The digest credentials Asterisk's endpoint demands are what vouch for the headers;
none of them carries a caller number."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from core.errors import DomainError
from core.types import CallRef
from ivr.document import IvrDocument
from ivr.handler import call_ref, route_variables
from ivr.twilio_voice import HEADER_FALLBACK, HEADER_PRIORITY, HEADER_QUEUE, NODE, TwilioVoice
from telephony import variables as v
from telephony.agi import AgiRequest
from telephony.agi_channel import AgiChannel

log = logging.getLogger("hotline.twilio")
_REFERENCE = re.compile(r"[0-9a-f]{32}")
MAX_PRIORITY = 10  # a topic's highest (ivr/document.py); the escalation's is above every topic's

Rejoin = Callable[[CallRef, CallRef], bool]  # CallAssembler.rejoin


class TwilioHandOver:
    """Called with the Asterisk call's linkedid, its node and the ``X-Hotline-Call`` reference."""

    def __init__(self, voice: TwilioVoice, rejoin: Rejoin, document: Callable[[], IvrDocument]) -> None:
        self._voice = voice
        self._rejoin = rejoin
        self._document = document

    async def __call__(self, request: AgiRequest, channel: AgiChannel) -> None:
        asterisk = call_ref(request)
        reference = request.args[2] if len(request.args) > 2 else ""
        if not _REFERENCE.fullmatch(reference):
            log.warning("a call from Twilio without a call reference: the fallback queue")
            return
        twilio = CallRef(NODE, reference)
        handed = self._voice.handed(reference)
        self._rejoin(twilio, asterisk)  # a record restored from disk after a restart, too
        if handed is not None:
            if handed.route is not None:
                await channel.set_variables(route_variables(handed.route), last=True)
            return  # the walk failed: the dialplan's fallback queue, as the record says
        if await channel.sip_header(HEADER_FALLBACK):
            return
        queue, priority = await channel.sip_header(HEADER_QUEUE), await channel.sip_header(HEADER_PRIORITY)
        route = self._checked(queue, priority)
        if route is None:
            log.warning("a Twilio hand-over not known here, its queue not live: the fallback queue")
            return
        await channel.set_variables(route, last=True)

    def _checked(self, queue: str, priority: str) -> list[tuple[str, str]] | None:
        """The headers' route, if the live document has that queue (the priority kept in a
        topic's range): the variables the dialplan takes it by."""
        try:
            document = self._document()
        except DomainError:
            return None
        if queue not in document.queue_names():
            return None
        level = min(int(priority), MAX_PRIORITY) if priority.isdigit() and len(priority) < 4 else 0
        return [(v.QUEUE, queue), (v.PRIORITY, str(level)), (v.OVERFLOW_QUEUE, ""), (v.IVR_RESULT, v.IVR_OK)]
