"""Domain errors of the operator's call control (desk/control.py); hotline/http.py maps every
DomainError to problem+json."""

from __future__ import annotations

from core.errors import DomainError


class DeskError(DomainError):
    error_id = "desk_error"
    status = 400


class UnknownReferral(DeskError):
    error_id = "referral_not_found"
    status = 404


class UnknownQueue(DeskError):
    error_id = "queue_not_found"
    status = 404


class NoEmergencyLine(DeskError):
    error_id = "no_emergency_line"
    status = 409


class CallControlFailed(DeskError):
    """Names the Asterisk node and the action that failed (``details``: ``{"node": ...}``)."""

    error_id = "call_control_failed"
    status = 502

    def __init__(self, node: str, message: str) -> None:
        super().__init__(message, {"node": node})
        self.node = node
