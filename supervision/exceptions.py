"""Domain errors of supervision (supervision/service.py); hotline/http.py maps every DomainError
to problem+json. An operator unknown, not in a call, or a role that may not supervise are the
agents room's own errors (unknown_operator, operator_not_in_call, forbidden)."""

from __future__ import annotations

from core.errors import DomainError


class SupervisionError(DomainError):
    error_id = "supervision_error"
    status = 400


class NoSoftphone(SupervisionError):
    """The admin token is no operator: Asterisk has no softphone to call for it."""

    error_id = "supervisor_needs_softphone"
    status = 409


class SupervisionConflict(SupervisionError):
    """The supervisor is already in a session, or names themselves."""

    error_id = "supervision_conflict"
    status = 409


class SessionNotFound(SupervisionError):
    error_id = "supervision_not_found"
    status = 404


class SessionEnded(SupervisionError):
    error_id = "supervision_ended"
    status = 409


class SupervisionFailed(SupervisionError):
    """Names the Asterisk node and the action that failed (``details``: ``{"node": ...}``)."""

    error_id = "supervision_failed"
    status = 502

    def __init__(self, node: str, message: str) -> None:
        super().__init__(message, {"node": node})
        self.node = node
