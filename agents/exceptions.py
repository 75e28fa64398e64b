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
