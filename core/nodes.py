"""The line's Asterisk nodes (``asterisk:`` in hotline.yaml): one or more, each with its own AMI,
its own operators and queues; a queue of one node may overflow to a queue of another over the
trunk between them (dialplan/render_nodes.py).

In the sandbox the first node takes ``sandbox:``'s directory and ports; every further node
names its own under ``asterisk[].sandbox`` (two Asterisk processes on one machine).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator

_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


class NodeSandboxSettings(BaseModel):
    """A sandbox node's own directory and ports (a node other than the first)."""

    directory: Path
    sip_host: str = "127.0.0.1"
    sip_port: int = Field(ge=1, le=65535)
    rtp_start: int = Field(ge=1024, le=65535)
    rtp_end: int = Field(ge=1024, le=65535)

    @model_validator(mode="after")
    def _range(self) -> NodeSandboxSettings:
        if self.rtp_end <= self.rtp_start:
            raise ValueError(f"sandbox rtp_end {self.rtp_end} must be above rtp_start {self.rtp_start}")
        return self


class AsteriskNodeSettings(BaseModel):
    name: str = "local"
    ami_host: str = "127.0.0.1"
    ami_port: int = 5038
    ami_user: str = "hotline"
    ami_secret: SecretStr | None = None
    ami_secret_file: Path | None = None
    # The address this node's Asterisk connects from (FastAGI allow-list); on a server, also
    # where the other nodes send it their overflow (SIP, at ``sip_port``).
    address: str = "127.0.0.1"
    # Where the other nodes reach this node's SIP on a server layout (the sandbox's own ports
    # otherwise); None: the line's ``sip.port``.
    sip_port: int | None = Field(None, ge=1, le=65535)
    # Where this service writes the node's rendered configuration on publish (then reloads it
    # through AMI); None: the node's configuration is managed elsewhere.
    config_dir: Path | None = None
    layout: Literal["sandbox", "server"] = "sandbox"
    # Networks allowed to reach AMI and SIP on a server layout.
    permit: list[str] = Field(default_factory=lambda: ["127.0.0.1/32"])
    # A sandbox node other than the first: its own directory and ports.
    sandbox: NodeSandboxSettings | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v):
            raise ValueError(f"asterisk node name {v!r} must be lowercase letters, digits, '-' or '_'")
        return v

    def secret(self) -> str | None:
        if self.ami_secret is not None:
            return self.ami_secret.get_secret_value()
        if self.ami_secret_file is not None:
            return self.ami_secret_file.read_text(encoding="utf-8").strip()
        return None


def check_nodes(nodes: list[AsteriskNodeSettings]) -> None:
    """Names unique; two sandbox nodes never on one SIP or AMI port (the first's ports are
    ``sandbox:``'s, checked by the caller)."""
    names = [n.name for n in nodes]
    if not nodes:
        raise ValueError("asterisk: at least one node is required")
    if len(set(names)) != len(names):
        raise ValueError(f"asterisk node names must be unique, got {names}")
    ami = [(n.ami_host, n.ami_port) for n in nodes]
    if len(set(ami)) != len(ami):
        raise ValueError(f"asterisk nodes need an AMI port each, got {[f'{h}:{p}' for h, p in ami]}")
    for node in nodes[1:]:
        if node.layout == "sandbox" and node.sandbox is None:
            raise ValueError(
                f"asterisk node {node.name!r}: a second sandbox node needs its own directory and"
                " ports under asterisk[].sandbox (directory, sip_port, rtp_start, rtp_end)"
            )
