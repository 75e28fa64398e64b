"""The burnout guard: rules that protect operators, applied from the queue events.

- a recovery pause after a call longer than ``long_call_minutes`` or on a heavy topic;
- a recovery pause after ``max_calls_in_a_row`` calls without any pause;
- a suggested break after ``break_after_hours`` on the line without one (a notice only).

A recovery notice also suggests a debrief (``suggest_debrief``): the operator's page offers to
ask a shift lead for one about that call.

A guard pause is an ordinary pause with reason ``recovery``, recorded like every pause; it ends
by itself after ``recovery_minutes`` unless the operator has ended or changed it before. The
operator and the shift lead see the guard's notices on their pages and in the API.

Asterisk or the database away does not stop a recovery: the pause (and its end) is tried
again with backoff until it is applied, the operator logs out, or the recovery's time is over;
the first failure is logged, every one counted (``burnout-guard`` on /metrics).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from agents.exceptions import NotLoggedIn, UnknownOperator
from agents.presence import PauseReason, PauseSource, Presence
from core.settings import GuardRules
from core.tasks import Backoff, TaskSupervisor
from core.types import CallRef
from telephony.events import AgentComplete, AmiEvent, QueueMemberAdded, QueueMemberPause

log = logging.getLogger("hotline.agents")


@dataclass(frozen=True)
class Notice:
    rule: str  # long_call | heavy_topic | calls_in_a_row | break_due
    message: str
    at: datetime
    until: datetime | None = None  # a recovery pause's planned end
    # After a call it acted on, the guard suggests a debrief: the operator's page offers to ask
    # a shift lead for one (agents/debriefs.py); asking stays the operator's choice.
    suggest_debrief: bool = False
    # The figures in the message, by name, for a page to say it in its own language (issue 19).
    figures: Mapping[str, str | float] = field(default_factory=dict)


@dataclass
class _Shift:
    on_line_since: datetime  # logged in, or back from the last pause
    calls_in_a_row: int = 0
    recovery: Notice | None = None


class BurnoutGuard:
    def __init__(
        self,
        rules: GuardRules,
        presence: Presence,
        topic_of: Callable[[CallRef], str | None],
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        tasks: TaskSupervisor | None = None,
        backoff: Callable[[], Backoff] = lambda: Backoff(1.0, 30.0),
    ) -> None:
        self._rules = rules
        self._presence = presence
        self._topic_of = topic_of
        self._clock = clock
        self._supervisor = tasks or TaskSupervisor()
        self._backoff = backoff
        self._shifts: dict[str, _Shift] = {}
        self._tasks: dict[asyncio.Task[None], str] = {}  # recoveries in progress: their operator
        # Whether this instance applies the pauses: with several service instances, the leader
        # only (hotline/singletons.py); the others keep the shifts and show the notices.
        self.acts: Callable[[], bool] = lambda: True

    # -- events ----------------------------------------------------------------------------------
    def on_event(self, event: AmiEvent) -> None:
        if isinstance(event, QueueMemberAdded):
            self._shifts.setdefault(event.member, _Shift(event.at))
        elif isinstance(event, QueueMemberPause):
            self._on_pause(event.member, event.paused, event.at)
        elif isinstance(event, AgentComplete) and self._rules.enabled:
            self._on_call_done(event)

    def _on_pause(self, member: str, paused: bool, at: datetime) -> None:
        shift = self._shifts.setdefault(member, _Shift(at))
        shift.calls_in_a_row = 0
        if paused:
            return
        shift.on_line_since = at
        shift.recovery = None

    def _on_call_done(self, e: AgentComplete) -> None:
        shift = self._shifts.setdefault(e.member, _Shift(e.at))
        shift.calls_in_a_row += 1
        rule = self._rule_hit(e, shift)
        if rule is None or shift.recovery is not None:
            return
        until = e.at + timedelta(minutes=self._rules.recovery_minutes)
        shift.recovery = Notice(rule[0], rule[1], e.at, until, suggest_debrief=True, figures=rule[2])
        if self.acts():  # the leading instance pauses; every instance shows the notice
            self._start(e.member, self._recover(e.member, rule[0]))

    def _start(self, operator: str, coro: Coroutine[Any, Any, None]) -> None:
        task = self._supervisor.spawn("burnout-guard", coro)
        self._tasks[task] = operator
        task.add_done_callback(self._tasks.pop)

    def take_over(self) -> int:
        """This instance leads now (hotline/singletons.py): recovery pauses another instance
        began end here on time; returns how many it took over."""
        now, busy = self._clock(), set(self._tasks.values())
        taken = 0
        for operator, shift in self._shifts.items():
            until = shift.recovery.until if shift.recovery is not None else None
            if until is not None and until > now and operator not in busy:
                self._start(operator, self._end_recovery(operator, (until - now).total_seconds()))
                taken += 1
        return taken

    def _rule_hit(self, e: AgentComplete, shift: _Shift) -> tuple[str, str, dict[str, str | float]] | None:
        rules = self._rules
        rest = rules.recovery_minutes
        minutes = e.talk_seconds / 60
        if minutes >= rules.long_call_minutes:
            figures: dict[str, str | float] = {"minutes": round(minutes), "rest": rest}
            return "long_call", f"a {minutes:.0f}-minute call: take {rest:g} minutes", figures
        topic = self._topic_of(CallRef(e.node, e.call_id))
        if topic is not None and topic in rules.heavy_topics:
            return "heavy_topic", f"a call on {topic}: take {rest:g} minutes", {"topic": topic, "rest": rest}
        if shift.calls_in_a_row >= rules.max_calls_in_a_row:
            calls = shift.calls_in_a_row
            figures = {"calls": calls, "rest": rest}
            return "calls_in_a_row", f"{calls} calls in a row: take {rest:g} minutes", figures
        return None

    async def _recover(self, operator: str, rule: str) -> None:
        seconds = self._rules.recovery_minutes * 60
        guard = PauseSource.GUARD
        if not await self._retried(operator, "pause", self._pause(operator, rule, guard), seconds):
            return
        await self._end_recovery(operator, seconds)

    async def _end_recovery(self, operator: str, seconds: float) -> None:
        await asyncio.sleep(seconds)
        shift = self._shifts.get(operator)
        if shift is not None and shift.recovery is not None:  # not ended by hand meanwhile
            resume = self._presence.resume
            await self._retried(operator, "end of the pause", lambda: resume(operator), seconds)

    def _pause(self, operator: str, rule: str, source: PauseSource) -> Callable[[], Awaitable[None]]:
        return lambda: self._presence.pause(operator, PauseReason.RECOVERY, source, rule)

    async def _retried(
        self, operator: str, what: str, action: Callable[[], Awaitable[None]], seconds: float
    ) -> bool:
        """``action`` until it succeeds (True), or it cannot (the operator is unknown or logged
        out) or ``seconds`` have passed trying (False)."""
        outage = self._supervisor.outage(
            "burnout-guard", f"burnout guard: recovery {what} for {operator[:40]}", log
        )
        backoff, deadline = self._backoff(), asyncio.get_running_loop().time() + seconds
        while True:
            try:
                await action()
            except UnknownOperator:
                return False  # a member that is no operator of ours (the sandbox's simulated ones)
            except NotLoggedIn:
                log.info("burnout guard: %s logged out; recovery %s not applied", operator[:40], what)
                return False
            except Exception as exc:  # Asterisk or the database away
                outage.failed(exc)
                if asyncio.get_running_loop().time() + backoff.initial > deadline:
                    log.warning("burnout guard: recovery %s for %s given up", what, operator[:40])
                    return False
                await asyncio.sleep(backoff.next())
                continue
            outage.ok()
            return True

    # -- what the operator and the shift lead see ------------------------------------------------
    def notices(self, operator: str) -> list[Notice]:
        shift = self._shifts.get(operator)
        if shift is None:
            return []
        found = [shift.recovery] if shift.recovery else []
        on_line = self._clock() - shift.on_line_since
        if shift.recovery is None and on_line >= timedelta(hours=self._rules.break_after_hours):
            hours = on_line.total_seconds() / 3600
            found.append(
                Notice(
                    "break_due",
                    f"{hours:.1f} hours on the line: time for a break",
                    self._clock(),
                    figures={"hours": round(hours, 1)},
                )
            )
        return found

    def forget(self, operator: str) -> None:
        """Logged out: the next login starts a new shift."""
        self._shifts.pop(operator, None)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
