"""Where one Asterisk keeps its files and what it listens on: the sandbox's (a chroot on the
developer's machine, one per node) or a server's (docker-compose, a stock Debian Asterisk)."""

from __future__ import annotations

from dataclasses import dataclass

from core.nodes import AsteriskNodeSettings, NodeSandboxSettings
from core.settings import Settings
from dialplan.render_sip import Trunk, trunk_of

DEBIAN_MODULE_DIR = "/usr/lib/x86_64-linux-gnu/asterisk/modules"


@dataclass(frozen=True)
class Directories:
    etc: str
    log: str
    spool: str
    run: str
    lib: str
    cache: str
    modules: str = DEBIAN_MODULE_DIR


@dataclass(frozen=True)
class Target:
    """Where one Asterisk keeps its files and what it listens on."""

    dirs: Directories
    ami_bind: str
    ami_permit: tuple[str, ...]
    sip_bind: str
    sip_port: int
    caller_networks: tuple[str, ...]
    rtp_start: int
    rtp_end: int
    simulated_operators: int = 0
    simulated_hold_seconds: int = 20
    unstaffed_queues: tuple[str, ...] = ()
    indications_country: str = "us"
    # Where RTP is bound; None lets Asterisk choose (servers behind NAT set it explicitly).
    media_address: str | None = None
    # Behind NAT (a server's sip: settings): the public address and SIP port callers see, and
    # the networks reached without NAT.
    external_address: str | None = None
    external_port: int | None = None
    local_nets: tuple[str, ...] = ()
    trunk: Trunk | None = None


def node_settings(settings: Settings, name: str | None = None) -> AsteriskNodeSettings:
    """The node of this name (the first when None)."""
    if name is None:
        return settings.asterisk[0]
    found = next((n for n in settings.asterisk if n.name == name), None)
    if found is None:
        known = ", ".join(n.name for n in settings.asterisk)
        raise ValueError(f"no Asterisk node {name!r} in the settings (asterisk: {known})")
    return found


def sandbox_place(settings: Settings, node: AsteriskNodeSettings) -> NodeSandboxSettings:
    """A sandbox node's directory and ports: its own, or ``sandbox:``'s for the first node."""
    if node.sandbox is not None:
        return node.sandbox
    s = settings.sandbox
    ports = {"sip_port": s.sip_port, "rtp_start": s.rtp_start, "rtp_end": s.rtp_end}
    return NodeSandboxSettings(directory=s.directory, sip_host=s.sip_host, **ports)


def sip_peer(settings: Settings, node: AsteriskNodeSettings) -> tuple[str, int]:
    """Where the other nodes send this node their overflow (SIP host and port)."""
    if node.layout == "sandbox":
        place = sandbox_place(settings, node)
        return place.sip_host, place.sip_port
    return node.address, node.sip_port or settings.sip.port


def sandbox_target(settings: Settings, root: str = "/srv/hotline", node: str | None = None) -> Target:
    sandbox, own = settings.sandbox, node_settings(settings, node)
    place = sandbox_place(settings, own)
    return Target(
        dirs=Directories(
            etc=f"{root}/etc",
            log=f"{root}/log",
            spool=f"{root}/spool",
            run=f"{root}/run",
            lib=f"{root}/lib",
            cache=f"{root}/cache",
        ),
        ami_bind=own.ami_host,
        ami_permit=("127.0.0.1/255.255.255.255",),
        sip_bind=place.sip_host,
        sip_port=place.sip_port,
        caller_networks=("127.0.0.1",),
        rtp_start=place.rtp_start,
        rtp_end=place.rtp_end,
        simulated_operators=sandbox.simulated_operators,
        simulated_hold_seconds=sandbox.simulated_hold_seconds,
        unstaffed_queues=tuple(sandbox.unstaffed_queues),
        media_address=place.sip_host,
    )


def server_target(settings: Settings, ami_permit: tuple[str, ...]) -> Target:
    """A stock Debian Asterisk on a server (the docker-compose image): SIP, RTP, NAT and the
    trunk from ``sip:``; the permitted networks reach AMI and, without a trunk, call in."""
    sip = settings.sip
    return Target(
        dirs=Directories(
            etc="/etc/asterisk",
            log="/var/log/asterisk",
            spool="/var/spool/asterisk",
            run="/var/run/asterisk",
            lib="/var/lib/asterisk",
            cache="/var/cache/asterisk",
        ),
        ami_bind="0.0.0.0",
        ami_permit=ami_permit,
        sip_bind="0.0.0.0",
        sip_port=sip.port,
        caller_networks=() if sip.trunk else ami_permit,
        rtp_start=sip.rtp_start,
        rtp_end=sip.rtp_end,
        simulated_operators=settings.sandbox.simulated_operators,
        simulated_hold_seconds=settings.sandbox.simulated_hold_seconds,
        external_address=sip.external_address,
        external_port=sip.external_port,
        local_nets=tuple(sip.local_nets) or ami_permit,
        trunk=trunk_of(settings),
    )
