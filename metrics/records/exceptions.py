"""Domain errors of the call records; hotline/http.py maps every DomainError to problem+json."""

from __future__ import annotations

from typing import Any

from core.errors import DomainError


class InvalidExportRange(DomainError):
    """since/until/interval_minutes of an export do not make a period that can be exported."""

    error_id = "invalid_export_range"
    status = 422

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, details)
