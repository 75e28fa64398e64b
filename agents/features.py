"""Feature codes dialled on an operator's softphone (*41 log in, *42 log out, *43N pause with
reason N, *40 end the pause), handled over FastAGI. The dialplan passes the softphone's
endpoint name, which is the operator's pseudonym."""

from __future__ import annotations

import logging

from agents.exceptions import AgentsError
from agents.presence import FEATURE_REASONS, Presence
from telephony.agi import AgiRequest
from telephony.agi_channel import AgiChannel

log = logging.getLogger("hotline.agents")
CONFIRM = {"login": "agent-loginok", "logout": "agent-loggedoff", "pause": "beep", "resume": "beep"}
REFUSED = "beeperr"


class FeatureCodes:
    def __init__(self, presence: Presence) -> None:
        self._presence = presence

    async def __call__(self, request: AgiRequest, channel: AgiChannel) -> None:
        action, operator = [*request.args, "", ""][:2]
        try:
            await self._run(action, operator, request.args[2] if len(request.args) > 2 else "")
        except (AgentsError, ValueError) as exc:
            log.warning("feature code %s for %s refused: %s", action[:10], operator[:40], exc)
            await channel.stream_file(REFUSED)
            return
        await channel.stream_file(CONFIRM[action])

    async def _run(self, action: str, operator: str, argument: str) -> None:
        if action == "login":
            await self._presence.login(operator)
        elif action == "logout":
            await self._presence.logout(operator)
        elif action == "pause":
            reason = FEATURE_REASONS.get(argument)
            if reason is None:
                raise ValueError(f"no pause reason for key {argument[:2]!r}")
            await self._presence.pause(operator, reason)
        elif action == "resume":
            await self._presence.resume(operator)
        else:
            raise ValueError(f"unknown feature {action[:10]!r}")
