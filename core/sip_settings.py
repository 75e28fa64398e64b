"""``sip:`` in hotline.yaml: what a server's Asterisk shows to the outside (docker-compose's
image behind NAT) and the SIP trunk calls arrive on. The sandbox has its own (``sandbox:``)."""

from __future__ import annotations

import ipaddress
import re
from pathlib import Path

from pydantic import BaseModel, Field, field_validator, model_validator

_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$")
_USER = re.compile(r"^[A-Za-z0-9._+-]{1,64}$")
_DID = re.compile(r"^\+?[0-9]{1,20}$")
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")


def _network(value: str) -> str:
    try:
        return str(ipaddress.ip_network(value, strict=False))
    except ValueError as exc:
        raise ValueError(f"{value!r} is not an address or network (e.g. 203.0.113.0/24)") from exc


class SipTrunkSettings(BaseModel):
    """A provider's SIP trunk: this server registers with it (username, password read from a
    file), calls from its address ranges are taken as the provider's, and a call to ``did``
    enters the hotline (any other number is refused)."""

    name: str = "trunk"
    host: str  # the provider's registrar and proxy: a name or an address
    port: int = Field(5060, ge=1, le=65535)
    username: str | None = None
    password_file: Path | None = None
    registers: bool = True  # send REGISTER (providers that route by address need not)
    match: list[str] = Field(min_length=1)  # the provider's signalling addresses (CIDR)
    did: str

    @field_validator("name")
    @classmethod
    def _name(cls, v: str) -> str:
        if not _NAME.match(v) or v.startswith("hotline"):
            raise ValueError(f"trunk name {v!r}: lowercase letters, digits, '-' or '_', not hotline…")
        return v

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        if not _HOST.match(v):
            raise ValueError(f"trunk host {v!r} must be a host name or an address")
        return v

    @field_validator("username")
    @classmethod
    def _user(cls, v: str | None) -> str | None:
        if v is not None and not _USER.match(v):
            raise ValueError("trunk username: letters, digits, '.', '_', '+' or '-' only")
        return v

    @field_validator("match")
    @classmethod
    def _match(cls, v: list[str]) -> list[str]:
        return [_network(n) for n in v]

    @field_validator("did")
    @classmethod
    def _did(cls, v: str) -> str:
        if not _DID.match(v):
            raise ValueError("trunk did: the number as the provider sends it, digits with an optional +")
        return v

    @model_validator(mode="after")
    def _credentials(self) -> SipTrunkSettings:
        if self.registers and (self.username is None or self.password_file is None):
            raise ValueError("a trunk that registers needs username and password_file")
        return self

    def password(self) -> str | None:
        if self.password_file is None:
            return None
        return self.password_file.read_text(encoding="utf-8").strip()


class SipSettings(BaseModel):
    """Signalling and media of a server's Asterisk (layout ``server``)."""

    port: int = Field(5060, ge=1, le=65535)  # where Asterisk listens (inside its container)
    # The public address (or name) callers and the trunk reach this server at, and the SIP
    # port there (the published one); None: Asterisk is not behind NAT.
    external_address: str | None = None
    external_port: int | None = Field(None, ge=1, le=65535)
    # Networks Asterisk reaches directly (no NAT rewriting); default: the networks permitted.
    local_nets: list[str] = Field(default_factory=list)
    # RTP ports: publish the same range, one to one.
    rtp_start: int = Field(10000, ge=1024, le=65534)
    rtp_end: int = Field(10999, ge=1025, le=65535)
    trunk: SipTrunkSettings | None = None

    @field_validator("external_address")
    @classmethod
    def _external(cls, v: str | None) -> str | None:
        if v is not None and not _HOST.match(v):
            raise ValueError(f"sip.external_address {v!r} must be an address or a host name")
        return v

    @field_validator("local_nets")
    @classmethod
    def _nets(cls, v: list[str]) -> list[str]:
        return [_network(n) for n in v]

    @model_validator(mode="after")
    def _range(self) -> SipSettings:
        if self.rtp_end <= self.rtp_start:
            raise ValueError("sip.rtp_end must be above sip.rtp_start")
        return self
