"""Drive a caller's :class:`ivr.engine.Walk` over FastAGI: prompts out, DTMF in, the route
back to the dialplan as channel variables."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from core.types import CallRef
from ivr.document import IvrDocument
from ivr.engine import Ask, Engine, Route, RouteKind
from ivr.observer import IvrObserver
from telephony import variables as v
from telephony.agi import AgiHangup, AgiRequest
from telephony.agi_channel import AgiChannel
from telephony.route_facts import RouteFacts, encode


def _now() -> datetime:
    return datetime.now(UTC)


# The route a caller takes after the walk, given the walk's route and its document: a shift
# lead's redirect (ivr/switchboard.py) may send the caller elsewhere. No I/O: once per caller.
Reroute = Callable[[Route, IvrDocument], Route]


def _as_walked(route: Route, _: IvrDocument) -> Route:
    return route


def call_ref(request: AgiRequest) -> CallRef:
    """The dialplan passes ``${CHANNEL(linkedid)}`` and the node name as AGI arguments."""
    call_id = request.args[0] if request.args and request.args[0] else request.uniqueid
    node = request.args[1] if len(request.args) > 1 else ""
    return CallRef(node=node, call_id=call_id)


def route_variables(route: Route) -> list[tuple[str, str]]:
    """What the dialplan needs to carry out the route (see asterisk-config/extensions.conf)."""
    if route.kind is RouteKind.REFERRAL:
        return [(v.REFERRAL_NUMBER, route.referral_number or ""), (v.IVR_RESULT, v.IVR_REFERRAL)]
    return [
        (v.QUEUE, route.queue or ""),
        (v.PRIORITY, str(route.priority)),
        (v.OVERFLOW_QUEUE, route.overflow_queue or ""),
        (v.OVERFLOW_AFTER, str(route.overflow_after_seconds or "")),
        (
            v.OVERFLOW_WAITING,
            "" if route.overflow_waiting_over is None else str(route.overflow_waiting_over),
        ),
        (v.SURVEY, "1" if route.survey else ""),
        (v.IVR_RESULT, v.IVR_OK),  # last: the dialplan trusts the rest only once this is set
    ]


def route_facts(
    route: Route, started: datetime, routed: datetime, version: str, repeat_count: int | None
) -> tuple[str, str]:
    """The route as facts on the channel: a service instance that did not walk this IVR (or
    outlives the one that did) records the call with them (telephony/route_facts.py)."""
    facts = RouteFacts(
        started_at=started,
        routed_at=routed,
        menu_version=version,
        language=route.language,
        path=route.path,
        topic=route.topic or "",
        reason=route.reason.value,
        priority=route.priority,
        after_hours=route.after_hours,
        referral=route.referral or "",
        switchboarded_from=route.switchboarded_from or "",
        repeat_count=repeat_count,
    )
    return (v.ROUTE_FACTS, encode(facts))


class IvrHandler:
    """The FastAGI handler for the ``ivr`` script."""

    def __init__(
        self,
        engine: Callable[[], Engine],
        observer: IvrObserver,
        clock: Callable[[], datetime] = _now,
        reroute: Reroute = _as_walked,
    ) -> None:
        self._engine = engine
        self._observer = observer
        self._clock = clock
        self._reroute = reroute

    async def __call__(self, request: AgiRequest, channel: AgiChannel) -> None:
        call = call_ref(request)
        engine = self._engine()  # one version per call: a call finishes on the one it started on
        started = self._clock()
        walk = engine.walk(started, request.language)
        self._observer.ivr_started(call, started, walk.language, str(engine.version), request.repeat_count)
        try:
            walked = await self._walk(walk.start(), walk.answer, channel, request.language)
            route = self._reroute(walked, engine.document)
            for prompt in route.announce:
                await channel.stream_file(prompt)
            routed = self._clock()
            facts = route_facts(route, started, routed, str(engine.version), request.repeat_count)
            await channel.set_variables([facts, *route_variables(route)], last=True)
        except AgiHangup:
            self._observer.ivr_hangup(call, self._clock(), walk.path)
            return
        except Exception:
            self._observer.ivr_failed(call, self._clock(), walk.path)
            raise
        self._observer.ivr_routed(call, routed, route)

    async def _walk(
        self,
        step: Ask | Route,
        answer: Callable[[str], Ask | Route],
        channel: AgiChannel,
        language: str,
    ) -> Route:
        while isinstance(step, Ask):
            if step.language != language:
                await channel.set_language(step.language)
                language = step.language
            step = answer(await self._ask(step, channel))
        return step

    @staticmethod
    async def _ask(step: Ask, channel: AgiChannel) -> str:
        for prompt in step.prompts[:-1]:
            pressed = await channel.stream_file(prompt, escape_digits=step.escape)
            if pressed:
                return pressed
        result = await channel.get_data(step.prompts[-1], step.timeout_ms, step.max_digits)
        return result.digits
