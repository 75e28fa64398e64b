"""One settings object: environment + one YAML file, validated once at start.

Precedence: explicit environment variables (``HOTLINE_*``, nested with ``__``) over the YAML file
over the defaults below. The YAML file is ``hotline.yaml`` in the working directory unless
``HOTLINE_CONFIG`` names another. Secrets never have a default outside development.
"""

from __future__ import annotations

import ipaddress
import os
import re
import secrets
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import make_url

from core.agi_settings import AgiSettings
from core.files import private_dir, tighten
from core.nodes import AsteriskNodeSettings as AsteriskNodeSettings  # re-exported: callers import it here
from core.nodes import check_nodes
from core.sip_settings import SipSettings
from core.tts_settings import TtsSettings
from core.twilio_settings import TwilioSettings

CONFIG_ENV = "HOTLINE_CONFIG"
DEFAULT_CONFIG_FILE = "hotline.yaml"
_NAME = re.compile(r"^[a-z][a-z0-9_-]{0,39}$")
# Rendered into the dialplan as an AGI argument: nothing Asterisk would read as syntax.
_AGI_SECRET = re.compile(r"[A-Za-z0-9_-]{16,128}")
_FILE_DATA: ContextVar[dict[str, Any] | None] = ContextVar("hotline_file_data", default=None)


class SettingsError(ValueError):
    """The configuration cannot be used; the message says which setting and why."""


def _check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise ValueError(f"{what} {value!r} must be lowercase letters, digits, '-' or '_'")
    return value


class GuardRules(BaseModel):
    """Configured under ``burnout:`` in hotline.yaml."""

    enabled: bool = True
    long_call_minutes: float = Field(20, gt=0)
    heavy_topics: list[str] = Field(default_factory=lambda: ["crisis"])
    max_calls_in_a_row: int = Field(6, ge=1)
    recovery_minutes: float = Field(5, gt=0)
    break_after_hours: float = Field(2, gt=0)


class SupervisionSettings(BaseModel):
    """Configured under ``supervision:`` in hotline.yaml (issue 17)."""

    # While a senior or shift lead listens, whispers or barges, the operator's page says so.
    notify_operator: bool = True


class AccountSettings(BaseModel):
    """Signing in (issue 18): sessions, second factors, lockouts, the first admin."""

    # A page's session ends after this long without a request, and this long after sign-in.
    idle_minutes: int = Field(30, ge=1, le=24 * 60)
    absolute_hours: int = Field(12, ge=1, le=24 * 14)
    # A kiosk wallboard (a TV) keeps its read-only session this long, until an admin revokes it.
    kiosk_days: int = Field(180, ge=1, le=3 * 366)
    # Roles that must sign in with a second factor (TOTP); they enrol at their first sign-in.
    totp_roles: list[Literal["operator", "senior", "shift_lead", "admin"]] = Field(default_factory=list)
    totp_issuer: str = Field("Hotline", min_length=1, max_length=40)  # what the app shows
    # After this many failures in a row the account waits, doubling each time up to the max.
    lockout_after: int = Field(5, ge=1, le=100)
    lockout_seconds: int = Field(60, ge=1)
    lockout_max_seconds: int = Field(3600, ge=1)
    # The cookie's Secure flag: keep it on (browsers allow it on http://localhost).
    secure_cookies: bool = True
    # The first admin, made at start when none exists, with the password in the file (a Docker
    # secret; in development var/secrets/admin-password); else `hotline admin create`.
    bootstrap_admin: str = Field("admin", pattern=r"^[a-z][a-z0-9_-]{1,39}$")
    bootstrap_password_file: Path | None = None


class HttpSettings(BaseModel):
    """The HTTP side's front door (hotline/front.py): what any client may hold of the process,
    so that nothing it does reaches the call path (FastAGI, AMI, records) beside it."""

    host: str = "127.0.0.1"
    port: int = 8080
    # Connections held at once, in all and from one address (behind a proxy every connection
    # comes from the proxy's address: raise the second to the first and limit clients there).
    max_connections: int = Field(512, ge=8, le=100_000)
    max_connections_per_peer: int = Field(64, ge=1, le=100_000)
    # A request's head (line and headers) must arrive this soon after the connection, or after
    # the previous response; a body must not pause longer than body_idle_seconds (then 408).
    header_timeout_seconds: float = Field(10.0, gt=0, le=300)
    body_idle_seconds: float = Field(30.0, gt=0, le=3600)
    # Proxies (addresses or networks) whose X-Forwarded-For names the client in the audit log.
    trusted_proxies: list[str] = Field(default_factory=list, max_length=64)

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: list[str]) -> list[str]:
        for item in value:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError as exc:
                raise ValueError(f"http.trusted_proxies: {item!r} is not an address or network") from exc
        return value


class SandboxSettings(BaseModel):
    # Cached Debian testing chroot with Asterisk 22 (shared by checkouts of this machine).
    root_cache: Path = Path.home() / ".cache" / "hotline" / "asterisk-forky"
    # This instance's rendered config, logs, spool, run files.
    directory: Path = Path("var/sandbox")
    sip_host: str = "127.0.0.1"
    sip_port: int = 5060
    rtp_start: int = 10000
    rtp_end: int = 10999
    simulated_operators: int = Field(2, ge=0, le=50)
    simulated_hold_seconds: int = Field(20, ge=1, le=3600)
    # Queues left without simulated operators (e.g. to show overflow in a demo or a test).
    unstaffed_queues: list[str] = Field(default_factory=list)
    boot_timeout_seconds: float = 60.0


class PrivacySettings(BaseModel):
    """What the records keep and for how long; what exports and reports may show."""

    # Repeat callers: the secret key (memory only) is replaced, and every hash dropped, this often.
    repeat_window_days: float = Field(7, gt=0, le=366)
    repeat_cap: int = Field(1_000_000, ge=1)  # numbers held at most (~150 bytes each)
    # Call records older than this are rolled up into 15-minute interval statistics and deleted.
    retention_days: int = Field(400, ge=1)
    # The audit log (who changed what, who read what is sensitive) keeps entries this long.
    audit_retention_days: int = Field(730, ge=30)
    # A cell (e.g. topic x interval) of an export or report with fewer calls is merged or hidden.
    small_cell_k: int = Field(5, ge=1)


class QueueTargetSettings(BaseModel):
    target: float = Field(0.8, gt=0, le=1)


class MetricsSettings(BaseModel):
    """Service level, wallboard and reports. Each queue's threshold T is the IVR document's
    ``service_level_seconds``; ``service_level_seconds`` here serves queues it does not know."""

    service_level_seconds: int = Field(20, ge=1, le=3600)
    service_level_target: float = Field(0.8, gt=0, le=1)  # share of offered calls answered within T
    queues: dict[str, QueueTargetSettings] = Field(default_factory=dict)  # per-queue target
    timezone: str = "UTC"  # wallboard's "since midnight", reports' default time zone

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"metrics.timezone: unknown time zone {v!r}") from exc
        return v

    def target(self, queue: str) -> float:
        override = self.queues.get(queue)
        return override.target if override else self.service_level_target


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HOTLINE_", env_nested_delimiter="__")

    environment: Literal["development", "production"] = "development"
    var_dir: Path = Path("var")
    database_url: str = "sqlite:///var/hotline.sqlite3"
    log_level: str = "INFO"
    log_file: Path | None = None
    asterisk: list[AsteriskNodeSettings] = Field(default_factory=lambda: [AsteriskNodeSettings()])
    agi: AgiSettings = Field(default_factory=AgiSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    sandbox: SandboxSettings = Field(default_factory=SandboxSettings)
    sip: SipSettings = Field(default_factory=SipSettings)
    tts: TtsSettings = Field(default_factory=TtsSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    metrics: MetricsSettings = Field(default_factory=MetricsSettings)
    burnout: GuardRules = Field(default_factory=GuardRules)
    supervision: SupervisionSettings = Field(default_factory=SupervisionSettings)
    accounts: AccountSettings = Field(default_factory=AccountSettings)
    # The IVR document imported as version 1 into an empty database; None: hotline-ivr.yaml.
    ivr_seed: Path | None = None
    # Prompt audio: where this service writes it, and the same directory as Asterisk sees it.
    prompts_dir: Path = Path("var/sandbox/sounds")
    asterisk_prompts_dir: Path = Path("/srv/hotline/sounds")
    referral_trunk: str = "127.0.0.1:5090"  # the SIP trunk referrals to partner lines leave by (host[:port])
    twilio: TwilioSettings | None = None  # callers on a Twilio number (issue 21): core/twilio_settings.py
    database_password_file: Path | None = None  # the database user's password (a Docker secret) as a file
    # Set from the YAML file's location; relative paths in the file resolve against it.
    config_file: Path | None = None

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _FileSource(settings_cls), file_secret_settings)

    @model_validator(mode="after")
    def _consistent(self) -> Settings:
        check_nodes(self.asterisk)  # core/nodes.py
        return self


class _FileSource(PydanticBaseSettingsSource):
    """The YAML file's values: below the environment, above the defaults."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return (_FILE_DATA.get() or {}).get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_FILE_DATA.get() or {})


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: the top level must be a mapping")
    return data


def _resolve_paths(data: dict[str, Any], base: Path) -> None:
    """Relative paths in the YAML file are relative to the file, not to the working dir."""
    for key in ("var_dir", "log_file", "ivr_seed", "prompts_dir"):
        if isinstance(data.get(key), str) and not Path(data[key]).is_absolute():
            data[key] = str(base / data[key])
    sandbox = data.get("sandbox")
    directory = sandbox.get("directory") if isinstance(sandbox, dict) else None
    if isinstance(directory, str) and not Path(directory).is_absolute():
        data["sandbox"]["directory"] = str(base / directory)
    for node in data.get("asterisk") or []:
        if isinstance(node, dict) and isinstance(node.get("config_dir"), str):
            node["config_dir"] = str(base / node["config_dir"])
        own = node.get("sandbox") if isinstance(node, dict) else None
        if isinstance(own, dict) and isinstance(own.get("directory"), str):
            own["directory"] = str(base / own["directory"])
    url = data.get("database_url")
    if isinstance(url, str) and url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        data["database_url"] = "sqlite:///" + str(base / url.removeprefix("sqlite:///"))


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Load, validate and finish the settings (development secrets included)."""
    if path is None:
        env_path = os.environ.get(CONFIG_ENV)
        path = Path(env_path) if env_path else Path(DEFAULT_CONFIG_FILE)
    data: dict[str, Any] = {}
    if path.exists():
        data = _read_yaml(path)
        _resolve_paths(data, path.resolve().parent)
        data["config_file"] = str(path.resolve())
    elif path.name != DEFAULT_CONFIG_FILE or os.environ.get(CONFIG_ENV):
        raise SettingsError(f"configuration file {path} does not exist")
    token = _FILE_DATA.set(data)
    try:
        settings = Settings(**overrides)
    except ValueError as exc:
        raise SettingsError(f"{path}: {exc}") from exc
    finally:
        _FILE_DATA.reset(token)
    _ensure_secrets(settings)
    return settings


def _ensure_secrets(settings: Settings) -> None:
    """Production refuses a missing secret; development makes one per var dir."""
    if settings.database_password_file is not None:
        url = make_url(settings.database_url).set(password=_read_secret(settings.database_password_file))
        settings.database_url = url.render_as_string(hide_password=False)
    for node in settings.asterisk:
        env_name = f"HOTLINE_AMI_SECRET_{node.name.upper().replace('-', '_')}"
        if node.secret():
            continue
        if os.environ.get(env_name):
            node.ami_secret = SecretStr(os.environ[env_name])
        elif settings.environment == "development":
            node.ami_secret = SecretStr(_dev_secret(settings.var_dir, f"ami-{node.name}"))
        else:
            raise SettingsError(
                f"asterisk node {node.name!r}: no AMI secret outside development;"
                f" set {env_name} or asterisk[].ami_secret_file"
            )
    _ensure_agi_secret(settings)


def _ensure_agi_secret(settings: Settings) -> None:
    agi = settings.agi
    if agi.secret_value() is None:
        if os.environ.get("HOTLINE_AGI_SECRET"):
            agi.secret = SecretStr(os.environ["HOTLINE_AGI_SECRET"])
        elif settings.environment == "development":
            agi.secret = SecretStr(_dev_secret(settings.var_dir, "agi-secret"))
        else:
            raise SettingsError(
                "no FastAGI secret outside development; set HOTLINE_AGI_SECRET or agi.secret_file"
            )
    if not _AGI_SECRET.fullmatch(agi.secret_value() or ""):
        raise SettingsError("the FastAGI secret must be 16 to 128 letters, digits, '-' or '_'")


def _read_secret(path: Path) -> str:
    try:
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SettingsError(f"secret file {path}: {exc.strerror}") from exc
    if not value:
        raise SettingsError(f"secret file {path} is empty")
    return value


def bootstrap_password(settings: Settings) -> str | None:
    """The first admin's password: the bootstrap file's, a development one, or None."""
    path = settings.accounts.bootstrap_password_file
    if path is not None:
        return _read_secret(path)
    if settings.environment == "development":
        return _dev_secret(settings.var_dir, "admin-password")
    return None


def _dev_secret(var_dir: Path, name: str) -> str:
    path = var_dir / "secrets" / name
    private_dir(path.parent, own=True)
    if path.exists():
        tighten(path)
        return path.read_text(encoding="utf-8").strip()
    value = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(value)
    return value
