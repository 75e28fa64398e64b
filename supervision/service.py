"""Listen, whisper, barge (issue 17, items 1 and 2): a senior, shift lead or admin supervises an
operator's call from their own softphone; every session and every mode it was in is recorded.

Asterisk's side is in supervision/session.py (the AMI actions) and the dialplan's supervision
contexts (dialplan/render_supervision.py). The dialplan tells this service, over FastAGI
(supervision/codes.py), when the supervisor's phone starts spying in a mode (answered, switched
by the API or by keys 4/5/6 on the phone) and when it hangs up. The operator's channel comes from
the desk's call control (the channel AgentConnect named); the caller's is never named here.

Database writes run in a worker thread; a write that fails is logged and the session goes on.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from agents.exceptions import NotInCall
from core.tasks import TaskSupervisor
from desk.control import AmiSender, Seat
from supervision.exceptions import SessionEnded, SessionNotFound, SupervisionConflict, SupervisionFailed
from supervision.session import (
    MODE_OF_KEY,
    RING_MS,
    Ending,
    Mode,
    ModeChange,
    Origin,
    Session,
    State,
    channel_id,
    hang_up,
    originate,
    redirect,
)
from supervision.store import Filters, SupervisionStore
from telephony.ami import AmiUnavailable
from telephony.events import AgentComplete, AmiEvent

log = logging.getLogger("hotline.supervision")
ANSWER_GRACE_SECONDS = 10.0  # after the ring time: a session never answered ends


def _now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return secrets.token_hex(6)


class Supervision:
    """``seat(operator)``: the call an operator talks in (desk/control.py), or None."""

    def __init__(
        self,
        nodes: Sequence[AmiSender],
        seat: Callable[[str], Seat | None],
        store: SupervisionStore,
        notify_operator: bool = True,
        clock: Callable[[], datetime] = _now,
        new_id: Callable[[], str] = _new_id,
        ring_seconds: float = RING_MS / 1000 + ANSWER_GRACE_SECONDS,
        tasks: TaskSupervisor | None = None,
    ) -> None:
        self._nodes = {n.name: n for n in nodes}
        self._seat = seat
        self._store = store
        self.notify_operator = notify_operator
        self._clock = clock
        self._new_id = new_id
        self._ring_seconds = ring_seconds
        self._live: dict[str, Session] = {}
        self._tasks = tasks or TaskSupervisor()  # what the AMI events and timers start

    async def recover(self) -> None:
        """At the service's start: sessions a previous process left open are ended in the record
        (what became of their calls is unknown here; a supervisor still in one hears it on)."""
        closed = await asyncio.to_thread(self._store.close_left_open, self._clock())
        if closed:
            log.warning("%d supervision sessions left open by the previous process ended as restart", closed)

    # -- starting ---------------------------------------------------------------------------------
    async def start(self, supervisor: str, operator: str, mode: Mode) -> Session:
        """Call the supervisor's softphone; answered, it spies on the operator's call."""
        seat = self._check(supervisor, operator)
        session = self._new(supervisor, operator, seat, mode, Origin.API)
        session.channel = channel_id(session.id)
        self._live[session.id] = session
        try:
            await self._send(seat.node, originate(session))
        except SupervisionFailed:
            del self._live[session.id]
            raise
        await self._write(self._store.started, session)
        asyncio.get_running_loop().call_later(self._ring_seconds, self._unanswered, session.id)
        log.info("supervision %s: %s calls %s to %s", session.id, supervisor, operator, mode.value)
        return session

    async def start_here(self, supervisor: str, operator: str, mode: Mode, uniqueid: str) -> Session:
        """A feature code: the supervisor's own call (``uniqueid``) spies; the caller checked the role."""
        seat = self._check(supervisor, operator)
        session = self._new(supervisor, operator, seat, mode, Origin.CODE)
        session.channel = uniqueid
        self._live[session.id] = session
        await self._write(self._store.started, session)
        log.info("supervision %s: %s supervises %s (%s, code)", session.id, supervisor, operator, mode.value)
        return session

    def _check(self, supervisor: str, operator: str) -> Seat:
        if supervisor == operator:
            raise SupervisionConflict("a supervisor cannot supervise their own call")
        busy = next((s for s in self._live.values() if s.supervisor == supervisor), None)
        if busy is not None:
            message = f"{supervisor} is already in supervision session {busy.id}: end it first"
            raise SupervisionConflict(message, {"session": busy.id})
        seat = self._seat(operator)
        if seat is None:
            raise NotInCall(f"operator '{operator}' is not in a call")
        return seat

    def _new(self, supervisor: str, operator: str, seat: Seat, mode: Mode, origin: Origin) -> Session:
        at = self._clock()
        return Session(
            id=self._new_id(),
            operator=operator,
            supervisor=supervisor,
            origin=origin,
            node=seat.node,
            call_id=seat.call.call_id,
            target=seat.channel,
            started_at=at,
            modes=[ModeChange(mode, at, origin.value, supervisor)],
        )

    # -- switching and ending ---------------------------------------------------------------------
    async def switch(self, session_id: str, mode: Mode, by: str) -> Session:
        session = await self._live_one(session_id)
        if mode is session.mode:
            return session
        if session.state is State.ACTIVE:
            await self._send(session.node, redirect(session, mode))
        change = ModeChange(mode, self._clock(), "api", by)
        session.modes.append(change)  # a ringing phone starts in it (see spying)
        await self._write(self._store.changed, session, change)
        log.info("supervision %s: %s (asked by %s)", session.id, mode.value, by)
        return session

    async def stop(self, session_id: str, by: str) -> Session:
        """The supervisor's call ends (a 502 keeps the session: the supervisor may still hear)."""
        session = await self._live_one(session_id)
        await self._send(session.node, hang_up(session), gone_is_done=True)
        return await self._end(session, Ending.ENDED, by)

    async def _end(self, session: Session, how: Ending, by: str | None = None) -> Session:
        if not session.live:
            return session
        session.state, session.ended_at = State.ENDED, self._clock()
        session.ended_how, session.ended_by = how, by
        self._live.pop(session.id, None)
        await self._write(self._store.changed, session)
        log.info("supervision %s ended: %s", session.id, how.value)
        return session

    # -- what the dialplan and AMI tell -----------------------------------------------------------
    async def spying(self, session_id: str, key: str, channel: str = "") -> None:
        """The supervisor's channel starts ChanSpy in the mode of ``key`` (FastAGI)."""
        session = self._live.get(session_id)
        mode = MODE_OF_KEY.get(key)
        if session is None or mode is None:
            return
        if channel.startswith(f"PJSIP/{session.supervisor}-"):
            session.channel = channel  # its name: what Redirect and Hangup find for sure
        change = None
        if session.state is State.RINGING:
            session.state, session.answered_at = State.ACTIVE, self._clock()
            if mode is not session.mode:  # switched while it rang
                self._spawn(self._send(session.node, redirect(session, session.mode)))
        elif mode is not session.mode:  # keys pressed on the supervisor's phone
            change = ModeChange(mode, self._clock(), "keys", session.supervisor)
            session.modes.append(change)
        await self._write(self._store.changed, session, change)

    async def hung_up(self, session_id: str) -> None:
        """The supervisor's channel hung up (FastAGI, the dialplan's ``h``)."""
        session = self._live.get(session_id)
        if session is not None:
            await self._end(session, Ending.HUNG_UP)

    def on_event(self, event: AmiEvent) -> None:
        """The supervised call ended: its sessions end (ChanSpy leaves with it)."""
        if isinstance(event, AgentComplete):
            for session in [s for s in self._live.values() if s.operator == event.member]:
                if session.call_id == event.call_id:
                    self._spawn(self._end(session, Ending.CALL_ENDED))

    def _unanswered(self, session_id: str) -> None:
        session = self._live.get(session_id)
        if session is not None and session.state is State.RINGING:
            self._spawn(self._end(session, Ending.NOT_ANSWERED))

    # -- reading ----------------------------------------------------------------------------------
    def live(self) -> list[Session]:
        return list(self._live.values())

    def notice(self, operator: str) -> Session | None:
        """The session listening to this operator now, if the line tells operators (the default)."""
        if not self.notify_operator:
            return None
        return next(
            (s for s in self._live.values() if s.operator == operator and s.state is State.ACTIVE), None
        )

    async def get(self, session_id: str) -> Session:
        session = self._live.get(session_id) or await asyncio.to_thread(self._store.get, session_id)
        if session is None:
            raise SessionNotFound(f"no supervision session '{session_id}'")
        return session

    async def find(self, filters: Filters) -> list[Session]:
        found = await asyncio.to_thread(self._store.find, filters)
        return [self._live.get(s.id, s) for s in found]

    async def _live_one(self, session_id: str) -> Session:
        session = await self.get(session_id)
        if not session.live:
            raise SessionEnded(f"supervision session '{session_id}' has ended")
        return session

    # -- internals --------------------------------------------------------------------------------
    async def _send(self, node_name: str, action: Mapping[str, str], gone_is_done: bool = False) -> None:
        node = self._nodes.get(node_name)
        if node is None:
            raise SupervisionFailed(node_name, f"node '{node_name}' of the call is not configured")
        what = f"{action['Action']} on node '{node.name}'"
        try:
            reply = await asyncio.wait_for(node.send(action, first_reply=True), timeout=10)
        except (AmiUnavailable, TimeoutError) as exc:
            reason = exc.reason if isinstance(exc, AmiUnavailable) else "no answer in 10 s"
            raise SupervisionFailed(node.name, f"{what} failed: {reason}") from exc
        first = reply[0] if isinstance(reply, list) and reply else reply
        first = first if first is not None else {}
        if str(first.get("Response", "")).lower() != "success":
            message = str(first.get("Message", "")) or "refused"
            if gone_is_done and "no such channel" in message.lower():
                return  # the supervisor's call is gone already
            raise SupervisionFailed(node.name, f"{what} refused: {message}")

    async def _write(self, write: Callable[..., None], *args: Any) -> None:
        try:
            await asyncio.to_thread(write, *args)
        except Exception as exc:  # the session goes on; its record misses this step
            log.warning("supervision record not written (%s)", type(exc).__name__)

    def _spawn(self, work: Coroutine[Any, Any, Any]) -> None:
        self._tasks.spawn("supervision", work)
