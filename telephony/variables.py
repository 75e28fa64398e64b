"""Names shared by the rendered dialplan and the Python side: one place, no string drift."""

from typing import Final

# Set by the IVR; the dialplan trusts the IVR only when IVR_RESULT is IVR_OK or IVR_REFERRAL.
IVR_RESULT: Final = "HOTLINE_IVR_RESULT"
IVR_OK: Final = "queue"
IVR_REFERRAL: Final = "referral"
QUEUE: Final = "HOTLINE_QUEUE"
PRIORITY: Final = "HOTLINE_PRIO"
OVERFLOW_QUEUE: Final = "HOTLINE_OVERFLOW_QUEUE"
OVERFLOW_AFTER: Final = "HOTLINE_OVERFLOW_AFTER"
OVERFLOW_WAITING: Final = "HOTLINE_OVERFLOW_WAITING"
REFERRAL_NUMBER: Final = "HOTLINE_REFERRAL_NUMBER"
FALLBACK: Final = "HOTLINE_FALLBACK"
SURVEY: Final = "HOTLINE_SURVEY"  # "1": ask the caller to rate the call after the operator hangs up
# The IVR's route as facts any service instance reads from AMI (telephony/route_facts.py);
# manager.conf names it in channelvars.
ROUTE_FACTS: Final = "HOTLINE_ROUTE"

# Dialplan contexts.
CONTEXT_INCOMING: Final = "hotline-in"
CONTEXT_ENTRY: Final = "hotline-entry"
CONTEXT_QUEUE: Final = "hotline-queue"
CONTEXT_REFERRAL: Final = "hotline-referral"
CONTEXT_SIMULATED_OPERATOR: Final = "hotline-simop"
CONTEXT_ESCALATE: Final = "hotline-escalate"  # the caller, handed on to the escalation queue
CONTEXT_SERVED: Final = "hotline-served"  # after the operator hung up: the survey, then goodbye
# Runs on the operator's channel as a call is answered (Queue's gosub): notes the call id in
# AstDB, so a service that was not listening then (a restart) still records it as answered.
CONTEXT_ANSWERED: Final = "hotline-answered"
ASTDB_ANSWERED: Final = "hotline_answered"  # the AstDB family: key the call id, value the epoch
# The operator's DTMF feature (features.conf applicationmap) that hands the caller on.
ESCALATE_FEATURE: Final = "hotline-escalate"
ESCALATE_DIGITS: Final = "*9"
ESCALATION_PRIORITY: Final = 100  # above every topic's priority (at most 10): first in line

# FastAGI script name the entry context calls (agi://host:port/<script>).
AGI_SCRIPT: Final = "ivr"
AGI_OPERATOR_SCRIPT: Final = "operator"
AGI_SURVEY_SCRIPT: Final = "survey"
# Callers handed over from the IVR on a Twilio number (ivr/twilio_agi.py): Asterisk's endpoint
# for Twilio (pjsip.conf) enters CONTEXT_TWILIO, which asks AGI_TWILIO_SCRIPT for the route kept
# under the INVITE's TWILIO_CALL_HEADER (our call reference, 32 hex digits).
AGI_TWILIO_SCRIPT: Final = "twilio"
CONTEXT_TWILIO: Final = "hotline-twilio"
TWILIO_ENDPOINT: Final = "hotline-twilio"
TWILIO_CALL_HEADER: Final = "X-Hotline-Call"
CONTEXT_OPERATORS: Final = "hotline-operators"

# The operator's desk (desk/control.py): where a transfer hands the caller, and the
# consultation call of a warm transfer (an attended transfer from the operator's channel).
CONTEXT_DESK_QUEUE: Final = "hotline-desk-queue"  # exten: the queue's name
CONTEXT_DESK_REFERRAL: Final = "hotline-desk-referral"  # exten: the partner line's number
CONTEXT_DESK_CONSULT: Final = "hotline-desk-consult"  # exten CONSULT_REFERRAL or CONSULT_QUEUE
DESK_DIAL: Final = "HOTLINE_DESK_DIAL"  # the consultation's target (a number or a queue)
CONSULT_REFERRAL: Final = "1"
CONSULT_QUEUE: Final = "2"
# The attended-transfer feature code (features.conf featuremap) that AMI Atxfer plays on the
# operator's channel; operators' calls allow it (BRIDGE_FEATURES=t in hotline-queue).
ATXFER_DIGITS: Final = "*7"
ANONYMOUS: Final = "anonymous <anonymous>"  # the caller id every partner line sees

# Supervision (supervision/): the supervisor's own softphone spies on an operator's call with
# ChanSpy. Extensions of CONTEXT_SUPERVISE are the modes' keys, the same keys the supervisor
# presses to switch (ChanSpy exits to CONTEXT_SUPERVISE_KEYS): 4 listen, 5 whisper, 6 barge.
CONTEXT_SUPERVISE: Final = "hotline-supervise"
CONTEXT_SUPERVISE_KEYS: Final = "hotline-supervise-keys"
SPY_SESSION: Final = "HOTLINE_SPY_SESSION"  # the session's id
SPY_TARGET: Final = "HOTLINE_SPY_TARGET"  # the supervised operator's channel (PJSIP/<pseudonym>-<n>)
SPY_EXIT_CONTEXT: Final = "SPY_EXIT_CONTEXT"  # ChanSpy's own variable (option X)
AGI_SUPERVISION_SCRIPT: Final = "supervision"
SUPERVISION_CODE: Final = "*4"  # *44<operator> listen, *45<operator> whisper, *46<operator> barge
SUPERVISION_CALLER_ID: Final = '"Supervision" <supervision>'  # what the supervisor's phone shows
