"""``agi:`` in hotline.yaml: the FastAGI server this service instance runs, and the one Asterisk
tries next (a second service instance, issue 22: hotline/singletons.py)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, Field, SecretStr


class AgiSettings(BaseModel):
    host: str = "127.0.0.1"
    port: int = 4573
    # Host Asterisk uses to reach the FastAGI server (rendered into the dialplan).
    advertise_host: str | None = None
    # Every FastAGI session presents it (the dialplan passes it as the first AGI argument):
    # HOTLINE_AGI_SECRET or the file; made once per var dir in development.
    secret: SecretStr | None = None
    secret_file: Path | None = None
    # A second service instance on its own host (or port): Asterisk walks a caller through its
    # FastAGI server when this one's walk ends without a route (refused, unreachable, the
    # process gone mid-walk). Its port is ``port`` unless given. Both share the secret.
    backup_host: str | None = None
    backup_port: int | None = Field(None, ge=1, le=65535)

    def secret_value(self) -> str | None:
        if self.secret is not None:
            return self.secret.get_secret_value()
        if self.secret_file is not None:
            return self.secret_file.read_text(encoding="utf-8").strip()
        return None

    def reachable_host(self) -> str:
        return self.advertise_host or self.host

    def base_urls(self) -> list[str]:
        """``agi://host:port`` of each instance's FastAGI server, in the order Asterisk tries them."""
        urls = [f"agi://{self.reachable_host()}:{self.port}"]
        if self.backup_host:
            urls.append(f"agi://{self.backup_host}:{self.backup_port or self.port}")
        return urls
