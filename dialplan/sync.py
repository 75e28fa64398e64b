"""Operators' accounts follow to Asterisk, even when a node is away.

An operator created, given new credentials or changed is saved first (the directory); then
every managed node is rendered and reloaded. A node that cannot take it (unreachable, refusing)
keeps the change *pending*: the API's answer says so and still shows the one-time secrets,
GET /api/operators shows it per operator, /healthz and /metrics per node, and the change is
applied when the node logs in to AMI again (retried with backoff while it stays logged in).
Rendering takes the operators as they are then, so one apply carries every change waiting.

Pending nodes and the operators waiting there are kept in a small JSON file under var/
(operator ids only, no secret), so a restart of the service does not forget them.

Why not refuse the change instead (roll it back and answer "retry")? A rollback would have to
reach Asterisk too: a node that took the change would have to be reloaded again, and the node
that failed would have the new files on disk already. A change kept and converged later needs
no second round-trip, and an NGO's admin does not have to come back when Asterisk does.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable
from pathlib import Path

from core.errors import DomainError
from core.tasks import Backoff, TaskSupervisor
from dialplan.apply import AsteriskApplier
from ivr.document import IvrDocument
from telephony.ami import NodeStatus

log = logging.getLogger("hotline.dialplan")


class AsteriskSync:
    def __init__(
        self,
        applier: AsteriskApplier,
        document: Callable[[], IvrDocument],
        state_file: Path,
        tasks: TaskSupervisor | None = None,
        backoff: Callable[[], Backoff] = lambda: Backoff(2.0, 60.0),
    ) -> None:
        self._applier = applier
        self._document = document
        self._file = state_file
        self._tasks = tasks or TaskSupervisor()
        self._backoff = backoff
        self._locks = {name: asyncio.Lock() for name in applier.managed()}
        self._waiting: dict[str, set[str]] = {name: set() for name in applier.managed()}
        self._why: dict[str, str] = {}  # node -> why its last try failed
        self._logged_in: dict[str, bool] = {}
        self._converging: dict[str, asyncio.Task[None]] = {}
        self._load()

    # -- what the API and the figures read ---------------------------------------------------------
    def waiting(self, operator_id: str) -> dict[str, str]:
        """Nodes where this operator's latest change is not applied yet, with why."""
        return {
            node: self._why.get(node, "not applied yet")
            for node, operators in self._waiting.items()
            if operator_id in operators
        }

    def pending(self) -> dict[str, int]:
        """Node -> operators whose change waits there (every managed node, 0 included)."""
        return {node: len(operators) for node, operators in self._waiting.items()}

    # -- changes -----------------------------------------------------------------------------------
    async def changed(self, operator_id: str) -> dict[str, str]:
        """An operator's account changed in the directory: apply it to every managed node now.
        Returns the nodes where it waits (empty: Asterisk has it everywhere)."""
        for operators in self._waiting.values():
            operators.add(operator_id)
        await self._save()
        for node in self._waiting:
            if await self._apply(node) is not None:
                log.warning(
                    "asterisk node %s: the change of %s is pending (%s)", node, operator_id, self._why[node]
                )
                self._retry(node, at_once=False)  # logged in but refusing: tried again
        return self.waiting(operator_id)

    async def publish(self, doc: IvrDocument) -> None:
        """The IVR's applier: ``doc`` to every managed node, raising as AsteriskApplier does; each
        node that takes it has every operator's change too."""
        for node in self._waiting:
            async with self._locks[node]:
                carried = set(self._waiting[node])
                await self._applier.apply_to(node, doc)
                await self._applied(node, carried)

    def on_status(self, status: NodeStatus) -> None:
        """For AmiNode's ``on_status``: a node that logs in gets what waits for it."""
        was, self._logged_in[status.node] = self._logged_in.get(status.node, False), status.logged_in
        if status.logged_in and not was:
            self._retry(status.node, at_once=True)

    # -- internals ---------------------------------------------------------------------------------
    def _retry(self, node: str, at_once: bool) -> None:
        """What waits for a logged-in node, applied (again, with backoff) by one task per node."""
        if not (self._logged_in.get(node) and self._waiting.get(node)):
            return
        running = self._converging.get(node)
        if running is None or running.done():
            self._converging[node] = self._tasks.spawn("asterisk-sync", self._converge(node, at_once))

    async def _converge(self, node: str, at_once: bool) -> None:
        backoff = self._backoff()
        outage = self._tasks.outage("asterisk-sync", f"operators' changes for asterisk node {node}", log)
        if not at_once:
            await asyncio.sleep(backoff.next())
        while self._waiting[node]:
            if (failed := await self._apply(node)) is None:
                outage.ok()
                return
            outage.failed(failed)
            if not self._logged_in.get(node, False):
                return  # the next login tries again
            await asyncio.sleep(backoff.next())

    async def _apply(self, node: str) -> Exception | None:
        """What waits for ``node``, applied; the exception if it could not be."""
        async with self._locks[node]:
            carried = set(self._waiting[node])
            if not carried:
                return None
            try:
                await self._applier.apply_to(node, self._document())
            except Exception as exc:  # unreachable, refused, the files not written: kept pending
                self._why[node] = str(exc) if isinstance(exc, DomainError) else type(exc).__name__
                return exc
            await self._applied(node, carried)
            log.info("asterisk node %s: %d operators' changes applied", node, len(carried))
            return None

    async def _applied(self, node: str, carried: set[str]) -> None:
        if carried:
            self._waiting[node] -= carried
            if not self._waiting[node]:
                self._why.pop(node, None)
            await self._save()

    def _load(self) -> None:
        try:
            stored = json.loads(self._file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as exc:
            log.error(
                "pending Asterisk changes unreadable (%s): every node gets them again", type(exc).__name__
            )
            stored = {node: ["?"] for node in self._waiting}
        for node, operators in stored.items():
            if node in self._waiting:
                self._waiting[node].update(str(op) for op in operators)

    async def _save(self) -> None:
        """Kept on disk for a restart; a failure to write it is logged, never the change's."""
        data = {node: sorted(ops) for node, ops in self._waiting.items() if ops}
        try:
            await asyncio.to_thread(_write_atomically, self._file, json.dumps(data, sort_keys=True))
        except OSError as exc:
            self._tasks.count_failure("asterisk-sync")
            log.error("pending Asterisk changes not kept on disk (%s)", type(exc).__name__)


def _write_atomically(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".tmp")
    with scratch.open("w", encoding="utf-8") as out:
        out.write(text)
        out.flush()
        os.fsync(out.fileno())
    os.replace(scratch, path)
