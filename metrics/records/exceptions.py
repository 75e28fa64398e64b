"""Domain errors of the call records; hotline/http.py maps every DomainError to problem+json."""

from __future__ import annotations

from typing import Any

from core.errors import DomainError, where


class InvalidExportRange(DomainError):
    """since/until/interval_minutes of an export do not make a period that can be exported."""

    error_id = "invalid_export_range"
    status = 422

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message, details)


class CallNotFound(DomainError):
    error_id = "call_not_found"
    status = 404


class SummaryNotFound(DomainError):
    """The call has no summary yet."""

    error_id = "summary_not_found"
    status = 404


class CallNotTaken(DomainError):
    """No operator took the call: there is nothing to summarise."""

    error_id = "call_not_taken"
    status = 409


class SummaryWindowClosed(DomainError):
    """The form's ``window_minutes`` after the call ended are over."""

    error_id = "summary_window_closed"
    status = 409


class SummaryInvalid(DomainError):
    """A summary the form refuses; ``details`` names the field (never its value)."""

    error_id = "summary_invalid"
    status = 422

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}", where(field, problem))


class SummaryUnknownField(SummaryInvalid):
    error_id = "summary_unknown_field"


class SummaryInvalidValue(SummaryInvalid):
    """Not one of the field's values (a choice, an issue of the call's topic, a referral of
    the document, yes or no), or not of the field's kind."""

    error_id = "summary_invalid_value"


class SummaryMissingField(SummaryInvalid):
    error_id = "summary_missing_field"


class SummaryTextNotAllowed(SummaryInvalid):
    error_id = "summary_text_not_allowed"


class SummaryTextTooLong(SummaryInvalid):
    error_id = "summary_text_too_long"


class SummaryPersonalData(SummaryInvalid):
    """Free text that looks like it holds a phone number, an e-mail address, a long run of
    digits or a street address (privacy/text.py)."""

    error_id = "summary_personal_data"
