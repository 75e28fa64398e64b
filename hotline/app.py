"""The composition root: builds the object graph from the settings and runs it in one process.

FastAGI server + AMI consumers + HTTP API share one asyncio loop. Dependencies are passed into
constructors; nothing here is a global.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from prometheus_client import CollectorRegistry, disable_created_metrics

from agents.directory import SIP_REALM, Operator, OperatorDirectory, Role
from agents.features import FeatureCodes
from agents.guard import BurnoutGuard
from agents.pauses import PauseKeeper, PauseLog, PauseWriter
from agents.presence import PauseReason, Presence
from agents.schemas import SoftphonePublic
from agents.state import OperatorBoard, OperatorState
from core.audit import AuditLog, AuditStore
from core.db import make_engine, migrate
from core.settings import Settings
from core.tasks import TaskSupervisor, child, exception_handler
from desk.context import CallDesk
from dialplan.apply import AsteriskApplier
from dialplan.live import live_document
from dialplan.sync import AsteriskSync
from exposition.writer import metrics_app
from hotline.accounts_wiring import first_admin, people
from hotline.audit import AuditTrail, networks
from hotline.bodies import BodyGate
from hotline.control import call_control
from hotline.front import HttpServer, raise_fd_limit, refusals
from hotline.health import health_body
from hotline.http import create_app
from hotline.lead import lead_tools
from hotline.lifecycle import HTTP_STOP_SECONDS, IVR_STOP_SECONDS, RECORDS_STOP_SECONDS, stop_signals
from hotline.loops import follow_ivr_forever, sweep_forever
from hotline.routes import routers
from hotline.singletons import singletons
from hotline.supervision_wiring import supervision, supervision_codes
from hotline.twilio_wiring import twilio_channel, twilio_refusals
from hotline.wiring import EventFanout, endpoint
from ivr.document import IvrDocument, Queue
from ivr.handler import IvrHandler
from ivr.prompts import PromptStudio, Voices
from ivr.service import IvrError, IvrService
from ivr.store import IvrStore
from ivr.survey import SurveyHandler
from ivr.switchboard import Switchboard
from ivr.switchboard_store import SwitchboardStore
from metrics.live.backlog import BacklogCollector
from metrics.live.board import QueueBoard
from metrics.live.prometheus import HotlineMetrics, LiveCollector, LiveSources
from metrics.live.refusals import RefusalCollector, Refusals
from metrics.live.switchboard import SwitchboardCollector
from metrics.live.upkeep import UpkeepCollector
from metrics.records.assembler import CallAssembler
from metrics.records.inflight import InFlightLog
from metrics.records.levels import ServiceLevels
from metrics.records.record import CallRecord
from metrics.records.store import RecordStore
from metrics.records.summary_store import SummaryStore
from metrics.records.writer import RecordWriter
from metrics.reports.service import ReportService
from privacy.repeat import RepeatCallers
from telephony import variables as v
from telephony.agi import AgiRequest
from telephony.agi_channel import AgiChannel
from telephony.ami import AmiNode, NodeStatus
from telephony.fastagi import FastAgiServer
from wallboard.service import Wallboard, WallboardSources, recent_totals

log = logging.getLogger("hotline")


class Hotline:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.tasks = TaskSupervisor()  # every background task; its counts go to /metrics
        self.engine = make_engine(settings.database_url)
        self.store = RecordStore(self.engine, self.levels)  # thresholds of the cells it writes
        self.writer = RecordWriter(self.store, settings.var_dir / "records")  # journal: var/records/
        self.audit = AuditLog(AuditStore(self.engine), settings.var_dir / "audit")  # who did what
        self.board = QueueBoard()
        seed = live_document(settings)
        queues = seed.queue_names()  # labels shown before the first call
        self._seed_queues = seed.queues
        disable_created_metrics()  # type: ignore[no-untyped-call]  # process-wide: no _created samples
        self.registry = CollectorRegistry()
        self.metrics = HotlineMetrics(self.registry, queues, self.levels)
        self.inflight = InFlightLog(settings.var_dir / "records")
        self.assembler = CallAssembler(
            self._record_finished, wrapup_for=self._wrapup_for, keeper=self.inflight
        )
        self.operators = OperatorBoard(wrapup_for=self._wrapup_for)
        self.desk = CallDesk(self.assembler.open_record, lambda: self.ivr_service.engine().document)
        consumers = [self.board.on_event, self.operators.on_event, self.metrics.on_event, self.desk.on_event]
        self.fanout = EventFanout([*consumers, self.assembler.on_event])
        self.nodes = [AmiNode(endpoint(n), self.fanout, self._node_status) for n in settings.asterisk]
        live = LiveSources(self._operator_states, self.levels, lambda: self.agi.errors_total)
        self.registry.register(LiveCollector(self.board, self._queue_names, self.node_statuses, live))
        self.registry.register(BacklogCollector(self.writer.backlog))  # records not saved yet
        self.http: HttpServer | None = None  # from run()
        self.registry.register(RefusalCollector(self._refusals))
        self.switchboard = Switchboard(SwitchboardStore(self.engine), self._live_document, tasks=self.tasks)
        self.registry.register(SwitchboardCollector(self.switchboard.active))  # redirects in force
        self.wallboard = Wallboard(
            WallboardSources(
                self.board,
                self._queue_names,
                self._operator_states,
                self.levels,
                ZoneInfo(settings.metrics.timezone),
                records=self.writer.backlog,
                switchboard=self.switchboard.snapshot,
            ),
            tasks=self.tasks,
        )
        self.fanout.add(self.wallboard.on_event)  # after the boards it reads
        self.switchboard.listen(self.wallboard.changed)  # a redirect begins or ends: a new snapshot
        self.reports = ReportService(self.engine, self.levels)
        self.directory = OperatorDirectory(self.engine)
        self.applier = AsteriskApplier(
            settings, {n.status.node: n for n in self.nodes}, lambda: self.directory.all(active_only=True)
        )
        pending = settings.var_dir / "asterisk-pending.json"
        self.sync = AsteriskSync(
            self.applier, lambda: self.ivr_service.engine().document, pending, self.tasks
        )
        self.registry.register(UpkeepCollector(self.tasks, self.sync.pending))
        self.ivr_store = IvrStore(self.engine)
        studio = PromptStudio(settings.prompts_dir, Voices.of(settings.tts))  # tts: voices, speed
        self.ivr_service = IvrService(
            self.ivr_store, studio, self.sync.publish, settings.asterisk_prompts_dir
        )
        self.ivr = IvrHandler(self.ivr_service.engine, self.assembler, reroute=self.switchboard.reroute)
        self.control = call_control(self.nodes, self.ivr_service, self.assembler, self.wallboard, self.engine)
        self.fanout.add(self.control.on_event)  # transfers, conference, emergency from the desk
        self.supervision = supervision(settings, self.nodes, self.control, self.engine, self.tasks)
        self.fanout.add(self.supervision.on_event)  # listen, whisper, barge end with the call
        self.spy_codes = supervision_codes(self.supervision, self.directory)
        self.pauses = PauseWriter(PauseLog(self.engine), self.tasks)
        self.presence = Presence(
            self.directory,
            self.nodes,
            lambda: self.ivr_service.engine().document,
            self.operators.logged_in,
            self.pauses,
        )
        self.guard = BurnoutGuard(settings.burnout, self.presence, self.assembler.topic_of, tasks=self.tasks)
        self.fanout.add(self.guard.on_event)
        self.fanout.add(PauseKeeper(self.pauses, self._pause_again, self.tasks).on_event)
        self.features = FeatureCodes(self.presence)
        self.survey = SurveyHandler(self.ivr_service.engine, self.assembler)
        self.repeats = RepeatCallers(
            timedelta(days=settings.privacy.repeat_window_days), settings.privacy.repeat_cap
        )
        self.twilio = twilio_channel(self)  # callers on a Twilio number: None without `twilio:`
        self.agi = FastAgiServer(
            self._route_agi,
            host=settings.agi.host,
            port=settings.agi.port,
            allowed_peers=frozenset(n.address for n in settings.asterisk),
            caller_counter=self._count_caller,
            secret=settings.agi.secret_value(),
        )
        self._agi_listening = False
        self.people = people(settings, self.engine, self.directory)  # accounts, sessions, tokens
        auth = self.people.auth
        lead = auth.guard({Role.SHIFT_LEAD, Role.ADMIN}, "metrics")  # /healthz details
        self.summaries = SummaryStore(self.engine)
        self.lead = lead_tools(self)  # debrief requests, the wallboard's actions (hotline/lead.py)
        self.singletons = singletons(self)  # retention, the guard's pauses: the leader's only
        self.app = create_app(
            routers(self, auth),
            metrics_app(self.registry),
            self._health,
            lead,
        )
        # A token before any body; every body capped, and cut off when it stops arriving.
        self.app.add_middleware(
            BodyGate, authenticate=auth.gate, idle_seconds=settings.http.body_idle_seconds
        )
        self.app.add_middleware(
            AuditTrail, record=self.audit.record, proxies=networks(settings.http.trusted_proxies)
        )

    def softphone(self, operator: Operator) -> SoftphonePublic:
        sandbox = self.settings.sandbox
        return SoftphonePublic(
            server=sandbox.sip_host, port=sandbox.sip_port, username=operator.id, realm=SIP_REALM
        )

    def _node_status(self, status: NodeStatus) -> None:
        self.sync.on_status(status)  # a node back gets the operators' changes waiting for it

    async def _pause_again(self, operator: str, reason: str) -> None:
        await self.presence.pause(operator, PauseReason(reason), record=False)

    def _count_caller(self, number: str) -> int | None:
        """The caller's number, as it arrives with the IVR's AGI request, becomes a count."""
        return self.repeats.observe(number, datetime.now(UTC))

    def _live_document(self) -> IvrDocument:
        return self.ivr_service.engine().document

    def _wrapup_for(self, queue: str) -> float | None:
        found = next((q for q in self._live_queues() if q.name == queue), None)
        return float(found.wrapup_seconds) if found else None

    def _live_queues(self) -> list[Queue]:
        """The live IVR's queues; the seed's until it runs (AMI events come before it)."""
        service: IvrService | None = getattr(self, "ivr_service", None)
        if service is not None:
            with contextlib.suppress(IvrError):
                return list(service.engine().document.queues)
        return list(self._seed_queues)

    def levels(self) -> ServiceLevels:
        """Each queue's threshold from the live IVR (the seed until it runs), targets from the settings."""
        queues = self._live_queues()
        m = self.settings.metrics
        return ServiceLevels(
            {q.name: float(q.service_level_seconds) for q in queues},
            {name: t.target for name, t in m.queues.items()},
            float(m.service_level_seconds),
            m.service_level_target,
        )

    def _queue_names(self) -> list[str]:
        return list(self.levels().thresholds)

    def _operator_states(self) -> list[OperatorState]:
        return [self.operators.state(name) for name in self.operators.operators()]

    def _record_finished(self, record: CallRecord) -> None:
        self.desk.on_record(record)
        self.metrics.on_record(record)
        self.wallboard.on_record(record)
        self.writer.submit(record)

    def _health(self) -> tuple[dict[str, Any], bool]:
        try:
            version: int | None = self.ivr_service.engine().version
        except IvrError:
            version = None
        backlog, pending = self.writer.backlog().brief(), self.sync.pending()
        return health_body(self.node_statuses(), self._agi_listening, version, backlog, pending)

    def node_statuses(self) -> list[NodeStatus]:
        return [node.status for node in self.nodes]

    def _refusals(self) -> Refusals:
        return {**refusals(self.agi, self.http), **twilio_refusals(self.twilio)}

    def summary_saved(self, record_id: str) -> None:
        self.wallboard.on_summary(record_id)
        self.desk.on_summary(record_id)

    async def _route_agi(self, request: AgiRequest, channel: AgiChannel) -> None:
        if request.script == v.AGI_SCRIPT:
            await self.ivr(request, channel)
        elif request.script == v.AGI_OPERATOR_SCRIPT:
            await self.features(request, channel)
        elif request.script == v.AGI_SURVEY_SCRIPT:
            await self.survey(request, channel)
        elif request.script == v.AGI_SUPERVISION_SCRIPT:
            await self.spy_codes(request, channel)
        elif request.script == v.AGI_TWILIO_SCRIPT and self.twilio is not None:
            await self.twilio.hand_over(request, channel)  # a caller from the Twilio IVR
        else:
            log.warning("FastAGI request for unknown script %r ignored", request.script[:40])

    async def _start_ivr(self) -> None:
        """A fresh install publishes the seed, which reloads Asterisk: wait for AMI first."""
        if await asyncio.to_thread(self.ivr_store.active_number) is None:
            for node in self.nodes:
                await node.wait_logged_in(30)
        await self.ivr_service.start(self.settings.ivr_seed)

    async def run(self) -> None:
        """Serve until SIGTERM or SIGINT (or the HTTP server ends), then stop in order."""
        asyncio.get_running_loop().set_exception_handler(exception_handler(self.tasks))
        await asyncio.to_thread(migrate, self.engine)
        await asyncio.to_thread(first_admin, self.settings, self.directory, self.people.accounts)
        await self.writer.replay()  # records an earlier process left in the journal go first
        await self.audit.replay()
        # Before AMI: a call that ends from now on is counted once, by on_record.
        self.wallboard.preload(await asyncio.to_thread(recent_totals, self.reports, datetime.now(UTC)))
        day = datetime.now(UTC) - timedelta(days=1)  # calls taken, summarised or not
        self.wallboard.preload_taken(await asyncio.to_thread(self.summaries.taken_since, day))
        await self._restore_calls()
        await self.supervision.recover()  # sessions an earlier process left open end in the record
        await self.lead.start()  # the open debrief requests, for the wallboard
        tasks = [self.tasks.supervise(f"ami-{node.name}", node.run) for node in self.nodes]
        await self._start_ivr()
        await self.switchboard.load()  # redirects still in force, before the first caller
        await self.agi.start()
        self._agi_listening = True
        loops: dict[str, Callable[[], Awaitable[None]]] = {
            "records-sweep": lambda: sweep_forever(self.assembler, self.repeats, self.tasks),
            "leadership": self.singletons.run,  # the leader's work (hotline/singletons.py)
            "ivr-follow": lambda: follow_ivr_forever(self.ivr_service, self.tasks),
            "wallboard": self.wallboard.run,
            "switchboard": self.switchboard.run,  # writes down each redirect's expiry
        }
        tasks += [self.tasks.supervise(name, run) for name, run in loops.items()]
        http, fd_limit = self.settings.http, raise_fd_limit()
        self.http = server = HttpServer(self.app, http, fd_limit)
        log.info(
            "hotline serving: FastAGI %s:%d, HTTP http://%s:%d (at most %d connections, %d from one "
            "address; %d open files allowed)",
            self.settings.agi.host,
            self.agi.port,
            http.host,
            http.port,
            server.guard.total,
            server.guard.per_peer,
            fd_limit,
        )
        stopping = stop_signals()
        serving = child(server.serve(), name="http")
        try:
            signalled = child(stopping.wait())
            await asyncio.wait({serving, signalled}, return_when=asyncio.FIRST_COMPLETED)
            signalled.cancel()
        finally:
            await self._stop(server, serving, tasks)

    async def _restore_calls(self) -> None:
        """Calls a previous process left in progress continue here (AMI's census, after the
        login, settles those that ended meanwhile)."""
        loaded = await asyncio.to_thread(self.inflight.load)
        if taken := self.assembler.restore(loaded.calls):
            log.info("%d calls in progress taken over from the previous process", taken)

    async def _stop(
        self, server: HttpServer, serving: asyncio.Task[None], tasks: list[asyncio.Task[None]]
    ) -> None:
        """New calls go to Asterisk's fallback at once; calls in the IVR get IVR_STOP_SECONDS to
        reach their queue; the wallboard's streams end; calls in progress stay kept for the
        next process; every finished record is flushed."""
        began = time.monotonic()
        log.info("hotline stopping")
        self._agi_listening = False
        cut = await self.agi.close(grace=IVR_STOP_SECONDS)
        self.wallboard.close()
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(serving, HTTP_STOP_SECONDS + 1)
        for node in self.nodes:
            await node.stop()
        await self.guard.close()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        await self.tasks.close()  # what was spawned and is still running (a recovery pause)
        kept = self.inflight.open_calls()
        await asyncio.to_thread(self.inflight.sync)
        self.inflight.close()
        pending = await self._flush_records()
        self.engine.dispose()
        log.info(
            "hotline stopped in %.1f s: %d IVR sessions cut short, %d calls in progress kept, "
            "records flushed (%d still to save)",
            time.monotonic() - began,
            cut,
            kept,
            pending,
        )

    async def _flush_records(self) -> int:
        """Finished records to the database, within a bound (what is not saved by then stays
        for the next process); returns how many are still to save."""
        try:
            await asyncio.wait_for(
                asyncio.gather(self.writer.close(), self.audit.close()), RECORDS_STOP_SECONDS
            )
        except TimeoutError:
            log.warning("records or audit entries not all saved within %g s", RECORDS_STOP_SECONDS)
        return self.writer.pending
