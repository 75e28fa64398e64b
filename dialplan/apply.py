"""Carry a published IVR document to every Asterisk node this service manages: render the
configuration, check it, write it, reload the affected modules through AMI. No restart."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import ClassVar

from dialplan.check import ConfigCheckError, check
from dialplan.render import render, sandbox_target, server_target, write
from hotline.settings import AsteriskNodeSettings, Settings
from ivr.model import IvrDocument
from telephony.ami import AmiNode, AmiUnavailable

log = logging.getLogger("hotline.dialplan")
RELOAD_MODULES = ("app_queue.so", "pbx_config.so", "res_pjsip.so")


class ApplyFailed(Exception):
    """Names the Asterisk node and the step that failed; the live version stays as it was."""

    error_id: ClassVar[str] = "asterisk_apply_failed"
    status: ClassVar[int] = 502

    def __init__(self, node: str, step: str) -> None:
        super().__init__(f"asterisk node '{node}': {step}")
        self.node = node


class AsteriskApplier:
    def __init__(self, settings: Settings, nodes: Mapping[str, AmiNode]) -> None:
        self._settings = settings
        self._nodes = nodes

    async def __call__(self, doc: IvrDocument) -> None:
        for node in self._settings.asterisk:
            if node.config_dir is not None:
                await self._apply(node, doc)

    async def _apply(self, node: AsteriskNodeSettings, doc: IvrDocument) -> None:
        assert node.config_dir is not None
        target = (
            sandbox_target(self._settings)
            if node.layout == "sandbox"
            else server_target(self._settings, tuple(node.permit))
        )
        files = render(self._settings, target, doc)
        staging = node.config_dir.with_name(node.config_dir.name + ".staging")
        write(files, staging)
        try:
            check(staging, doc.queue_names())
        except ConfigCheckError as exc:
            raise ApplyFailed(node.name, f"rendered configuration refused: {exc}") from exc
        write(files, node.config_dir)
        ami = self._nodes.get(node.name)
        if ami is None:
            raise ApplyFailed(node.name, "no AMI connection is configured")
        for module in RELOAD_MODULES:
            await self._reload(ami, node.name, module)
        log.info("asterisk node %s: configuration reloaded", node.name)

    @staticmethod
    async def _reload(ami: AmiNode, node: str, module: str) -> None:
        try:
            reply = await ami.send({"Action": "Reload", "Module": module})
        except AmiUnavailable as exc:
            raise ApplyFailed(node, f"reloading {module} failed: {exc.reason}") from exc
        if str(reply.get("Response", "")).lower() != "success":
            raise ApplyFailed(node, f"reloading {module} failed: {reply.get('Message', 'no reason given')}")
