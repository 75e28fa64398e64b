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

# Dialplan contexts.
CONTEXT_INCOMING: Final = "hotline-in"
CONTEXT_ENTRY: Final = "hotline-entry"
CONTEXT_QUEUE: Final = "hotline-queue"
CONTEXT_REFERRAL: Final = "hotline-referral"
CONTEXT_SIMULATED_OPERATOR: Final = "hotline-simop"
CONTEXT_ESCALATE: Final = "hotline-escalate"  # the caller, handed on to the escalation queue
CONTEXT_SERVED: Final = "hotline-served"  # after the operator hung up: the survey, then goodbye
# The operator's DTMF feature (features.conf applicationmap) that hands the caller on.
ESCALATE_FEATURE: Final = "hotline-escalate"
ESCALATE_DIGITS: Final = "*9"
ESCALATION_PRIORITY: Final = 100  # above every topic's priority (at most 10): first in line

# FastAGI script name the entry context calls (agi://host:port/<script>).
AGI_SCRIPT: Final = "ivr"
AGI_OPERATOR_SCRIPT: Final = "operator"
AGI_SURVEY_SCRIPT: Final = "survey"
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
