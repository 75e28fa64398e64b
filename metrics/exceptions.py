"""Domain errors of the metrics room; hotline/http.py maps them to HTTP with their error_id."""

from __future__ import annotations

from typing import Any, ClassVar


class MetricsError(Exception):
    error_id: ClassVar[str] = "metrics_error"
    status: ClassVar[int] = 400

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


class InvalidExportRange(MetricsError):
    """since/until/interval_minutes of an export do not make a period that can be exported."""

    error_id = "invalid_export_range"
    status = 422
