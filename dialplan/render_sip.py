"""A server's SIP trunk (``sip.trunk`` in hotline.yaml) as pjsip.conf and the dialplan name it:
registration, the provider's address ranges, the DID that enters the hotline."""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings


@dataclass(frozen=True)
class Trunk:
    name: str
    host: str
    port: int
    username: str | None
    password: str | None  # read from sip.trunk.password_file; pjsip.conf is 0600
    register: bool
    match: tuple[str, ...]
    did: str


def trunk_of(settings: Settings) -> Trunk | None:
    t = settings.sip.trunk
    if t is None:
        return None
    return Trunk(t.name, t.host, t.port, t.username, t.password(), t.registers, tuple(t.match), t.did)
