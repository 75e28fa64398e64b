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


# --- Signing in (agents/accounts.py, agents/sessions.py, agents/tokens.py) ---------------------


class SignInFailed(AgentsError):
    error_id = "sign_in_failed"
    status = 401


class SecondFactorRequired(AgentsError):
    """The password was right; this account also needs its authenticator app's code."""

    error_id = "second_factor_required"
    status = 401


class AccountLocked(AgentsError):
    error_id = "account_locked"
    status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, {"retry_after_seconds": retry_after})
        self.headers = {"Retry-After": str(retry_after)}  # type: ignore[misc]  # per answer


class CsrfFailed(AgentsError):
    error_id = "csrf_failed"
    status = 403


class EnrolmentRequired(AgentsError):
    """A role the line requires a second factor of: nothing but enrolling until it is set up."""

    error_id = "second_factor_enrolment_required"
    status = 403


class AlreadyEnrolled(AgentsError):
    error_id = "second_factor_enrolled"
    status = 409


class WeakPassword(AgentsError):
    error_id = "weak_password"
    status = 422


class UnknownToken(AgentsError):
    error_id = "unknown_token"
    status = 404


class UnknownKiosk(AgentsError):
    error_id = "unknown_kiosk"
    status = 404


class PairingFailed(AgentsError):
    error_id = "kiosk_pairing_failed"
    status = 401


class LastAdmin(AgentsError):
    """The last active admin cannot be deactivated or demoted: nobody could manage the line."""

    error_id = "last_admin"
    status = 409
