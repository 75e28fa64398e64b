"""The post-call survey (FastAGI script ``survey``): after the operator hangs up, a caller on a
topic with a survey may rate the call 1 to 5. Only the digit is kept, in the call's record."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Protocol

from core.types import CallRef
from ivr.engine import Engine
from ivr.handler import call_ref
from telephony.agi import AgiHangup, AgiRequest
from telephony.agi_channel import AgiChannel

log = logging.getLogger("hotline.ivr")
SCORES = frozenset("12345")


class SurveySink(Protocol):
    def surveyed(self, call: CallRef, at: datetime, score: int) -> None: ...


class SurveyHandler:
    def __init__(
        self,
        engine: Callable[[], Engine],
        sink: SurveySink,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._engine = engine
        self._sink = sink
        self._clock = clock

    async def __call__(self, request: AgiRequest, channel: AgiChannel) -> None:
        engine = self._engine()
        survey = engine.document.survey
        if survey is None:  # the survey was removed from the live version meanwhile
            return
        language = engine.language(request.language)  # the one the IVR set on the channel
        try:
            result = await channel.get_data(
                engine.play(survey.prompt, language), survey.timeout_seconds * 1000, 1
            )
            if result.digits[:1] not in SCORES:
                return  # no answer, or another key: nothing recorded
            self._sink.surveyed(call_ref(request), self._clock(), int(result.digits[0]))
            if survey.thanks:
                await channel.stream_file(engine.play(survey.thanks, language))
        except AgiHangup:
            return
