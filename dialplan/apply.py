"""Carry a published IVR document to every Asterisk node this service manages: render the
configuration, check it, write it, reload the affected modules through AMI. No restart."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping, Sequence

from agents.directory import Operator
from core.errors import DomainError
from core.settings import AsteriskNodeSettings, Settings
from dialplan.check import ConfigCheckError, check
from dialplan.render import render, sandbox_target, server_target, write
from dialplan.render_nodes import local_queue_names
from ivr.document import IvrDocument
from telephony.ami import AmiNode, AmiUnavailable

log = logging.getLogger("hotline.dialplan")
RELOAD_MODULES = ("app_queue.so", "pbx_config.so", "res_pjsip.so")


class ApplyFailed(DomainError):
    """Names the Asterisk node and the step that failed; the live version stays as it was."""

    error_id = "asterisk_apply_failed"
    status = 502

    def __init__(self, node: str, step: str) -> None:
        super().__init__(f"asterisk node '{node}': {step}", {"node": node})
        self.node = node


class AsteriskApplier:
    def __init__(
        self,
        settings: Settings,
        nodes: Mapping[str, AmiNode],
        operators: Callable[[], Sequence[Operator]] = tuple,
        settle_seconds: float = 10.0,
    ) -> None:
        self._settings = settings
        self._nodes = nodes
        self._operators = operators
        self._settle = settle_seconds

    async def __call__(self, doc: IvrDocument) -> None:
        for node in self._settings.asterisk:
            if node.config_dir is not None:
                await self._apply(node, doc)

    def managed(self) -> list[str]:
        """The nodes whose configuration this service writes (a ``config_dir``)."""
        return [node.name for node in self._settings.asterisk if node.config_dir is not None]

    async def apply_to(self, name: str, doc: IvrDocument) -> None:
        """The configuration of one managed node, rendered with the operators as they are now."""
        node = next(n for n in self._settings.asterisk if n.name == name and n.config_dir is not None)
        await self._apply(node, doc)

    async def _apply(self, node: AsteriskNodeSettings, doc: IvrDocument) -> None:
        assert node.config_dir is not None
        target = (
            sandbox_target(self._settings, node=node.name)
            if node.layout == "sandbox"
            else server_target(self._settings, tuple(node.permit))
        )
        operators = self._operators()
        staging = node.config_dir.with_name(node.config_dir.name + ".staging")
        try:
            files = render(self._settings, target, doc, operators, node.name)
            write(files, staging)
            check(staging, local_queue_names(doc, node.name))
        except ConfigCheckError as exc:
            raise ApplyFailed(node.name, f"rendered configuration refused: {exc}") from exc
        write(files, node.config_dir)
        ami = self._nodes.get(node.name)
        if ami is None:
            raise ApplyFailed(node.name, "no AMI connection is configured")
        for module in RELOAD_MODULES:
            await self._reload(ami, node.name, module)
        await self._settled(ami, node.name, {op.id for op in operators if op.active})
        log.info("asterisk node %s: configuration reloaded", node.name)

    async def _settled(self, ami: AmiNode, node: str, softphones: set[str]) -> None:
        """PJSIP applies a reload after AMI has answered: wait until every softphone account
        is there, so an operator registering right after an API call meets the new config."""
        deadline = asyncio.get_running_loop().time() + self._settle
        while True:
            try:
                listing = await ami.send({"Action": "PJSIPShowEndpoints"})
            except AmiUnavailable as exc:
                raise ApplyFailed(node, f"listing endpoints failed: {exc.reason}") from exc
            present = {str(m.get("ObjectName", "")) for m in listing if m.get("Event") == "EndpointList"}
            if softphones <= present:
                return
            if asyncio.get_running_loop().time() > deadline:
                missing = ", ".join(sorted(softphones - present))
                raise ApplyFailed(node, f"softphone accounts not loaded after the reload: {missing}")
            await asyncio.sleep(0.1)

    @staticmethod
    async def _reload(ami: AmiNode, node: str, module: str) -> None:
        try:
            reply = await ami.send({"Action": "Reload", "Module": module})
        except AmiUnavailable as exc:
            raise ApplyFailed(node, f"reloading {module} failed: {exc.reason}") from exc
        if str(reply.get("Response", "")).lower() != "success":
            raise ApplyFailed(node, f"reloading {module} failed: {reply.get('Message', 'no reason given')}")
