"""Drive a :class:`MenuRun` over FastAGI: prompts out, DTMF in, the route back to the dialplan."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from dialplan import variables as v
from ivr.menu import Ask, Menu, MenuRun, Route
from ivr.observer import CallRef, IvrObserver
from telephony.agi import AgiChannel, AgiHangup, AgiRequest


def _now() -> datetime:
    return datetime.now(UTC)


def call_ref(request: AgiRequest) -> CallRef:
    """The dialplan passes ``${CHANNEL(linkedid)}`` and the node name as AGI arguments."""
    call_id = request.args[0] if request.args and request.args[0] else request.uniqueid
    node = request.args[1] if len(request.args) > 1 else ""
    return CallRef(node=node, call_id=call_id)


class IvrHandler:
    """The FastAGI handler for the ``ivr`` script."""

    def __init__(
        self,
        menu: Callable[[], Menu],
        observer: IvrObserver,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._menu = menu
        self._observer = observer
        self._clock = clock

    async def __call__(self, request: AgiRequest, channel: AgiChannel) -> None:
        call = call_ref(request)
        menu = self._menu()  # one snapshot per call: a call finishes on the menu it started with
        run = MenuRun(menu)
        self._observer.ivr_started(call, self._clock(), request.language, menu.version)
        try:
            route = await self._walk(menu, run, channel)
            await channel.set_variable(v.QUEUE, route.queue)
            await channel.set_variable(v.IVR_RESULT, v.IVR_OK)
        except AgiHangup:
            self._observer.ivr_hangup(call, self._clock(), run.path)
            return
        except Exception:
            self._observer.ivr_failed(call, self._clock(), run.path)
            raise
        self._observer.ivr_routed(call, self._clock(), route)

    async def _walk(self, menu: Menu, run: MenuRun, channel: AgiChannel) -> Route:
        pressed = await channel.stream_file(menu.greeting, escape_digits=menu.digits)
        step: Ask | Route = run.answer(pressed) if pressed else run.ask()
        while isinstance(step, Ask):
            result = await channel.get_data(step.prompt, step.timeout_ms, step.max_digits)
            step = run.answer(result.digits)
        return step
