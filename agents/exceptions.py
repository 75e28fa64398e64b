"""Domain errors of the agents room; hotline/http.py maps every DomainError to problem+json."""

from __future__ import annotations

from core.errors import DomainError


class AgentsError(DomainError):
    error_id = "agents_error"
    status = 400


class UnknownOperator(AgentsError):
    error_id = "unknown_operator"
    status = 404


class OperatorExists(AgentsError):
    error_id = "operator_exists"
    status = 409


class Forbidden(AgentsError):
    error_id = "forbidden"
    status = 403


class NotLoggedIn(AgentsError):
    error_id = "operator_not_logged_in"
    status = 409


class NotInCall(AgentsError):
    error_id = "operator_not_in_call"
    status = 409


class NoEscalationQueue(AgentsError):
    error_id = "no_escalation_queue"
    status = 409


class ReservedPauseReason(AgentsError):
    error_id = "pause_reason_reserved"
    status = 422


class UnknownQueue(AgentsError):
    error_id = "queue_not_found"
    status = 404


class AlreadyInQueue(AgentsError):
    error_id = "operator_in_queue"
    status = 409


class NotInQueue(AgentsError):
    error_id = "operator_not_in_queue"
    status = 409


class DebriefNotFound(AgentsError):
    error_id = "debrief_not_found"
    status = 404


class DebriefClosed(AgentsError):
    error_id = "debrief_closed"
    status = 409


class DebriefOpen(AgentsError):
    """The operator has an open request already (``details``: ``{"id": ...}``)."""

    error_id = "debrief_already_open"
    status = 409


class DebriefCallNotFound(AgentsError):
    error_id = "call_not_found"
    status = 404


class DebriefPersonalData(AgentsError):
    error_id = "debrief_personal_data"
    status = 422
