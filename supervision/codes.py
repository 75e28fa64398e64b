"""Supervision over FastAGI (the dialplan's "supervision" script), for the supervisor's own calls:

- ``code <supervisor> <key> <operator>``: a feature code dialled on a softphone, ``*44<operator>``
  listen, ``*45<operator>`` whisper, ``*46<operator>`` barge (seniors, shift leads and admins;
  refused for the role operator with the error tone). Its channel variables tell the dialplan
  which channel to spy on; without them it hangs up.
- ``spy <session> <key> <channel>``: the supervisor's channel starts ChanSpy in that mode.
- ``end <session>``: the supervisor's channel hung up.

The dialplan passes the softphone's endpoint name, which is the operator's pseudonym."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable

from agents.directory import Role
from agents.exceptions import Forbidden
from core.errors import DomainError
from supervision.service import Supervision
from supervision.session import MODE_OF_KEY
from telephony import variables as v
from telephony.agi import AgiRequest
from telephony.agi_channel import AgiChannel

log = logging.getLogger("hotline.supervision")
SUPERVISES = frozenset({Role.SENIOR, Role.SHIFT_LEAD, Role.ADMIN})
REFUSED = "beeperr"
PSEUDONYM = re.compile(r"[a-z][a-z0-9_-]{0,39}")  # what an operator's id looks like (never a number)


class SupervisionCodes:
    """``role_of(operator)``: their role (a database read, run in a worker thread); raises
    UnknownOperator for an unknown one."""

    def __init__(self, supervision: Supervision, role_of: Callable[[str], Role]) -> None:
        self._supervision = supervision
        self._role_of = role_of

    async def __call__(self, request: AgiRequest, channel: AgiChannel) -> None:
        action, first, second, third = [*request.args, "", "", "", ""][:4]
        if action == "spy":
            await self._supervision.spying(first[:32], second[:1], third[:80])
        elif action == "end":
            await self._supervision.hung_up(first[:32])
        elif action == "code":
            await self._code(request, channel, first[:40], second[:1], third[:40])
        else:
            log.warning("supervision: unknown FastAGI action %r", action[:10])

    async def _code(
        self, request: AgiRequest, channel: AgiChannel, supervisor: str, key: str, operator: str
    ) -> None:
        mode = MODE_OF_KEY.get(key)
        try:
            if mode is None:
                raise ValueError(f"no supervision mode for key {key!r}")
            if not PSEUDONYM.fullmatch(operator):
                operator = "?"  # whatever was dialled is not logged
                raise ValueError("not an operator's pseudonym")
            if await asyncio.to_thread(self._role_of, supervisor) not in SUPERVISES:
                raise Forbidden("the role operator may not supervise")
            session = await self._supervision.start_here(supervisor, operator, mode, request.uniqueid)
        except (DomainError, ValueError) as exc:
            log.warning("supervision code of %s for %s refused: %s", supervisor, operator, exc)
            await channel.stream_file(REFUSED)
            return
        await channel.set_variables(
            [
                (v.SPY_TARGET, session.target),
                (v.SPY_EXIT_CONTEXT, v.CONTEXT_SUPERVISE_KEYS),
                (v.SPY_SESSION, session.id),
            ]
        )
