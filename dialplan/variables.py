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

# Dialplan contexts.
CONTEXT_INCOMING: Final = "hotline-in"
CONTEXT_ENTRY: Final = "hotline-entry"
CONTEXT_QUEUE: Final = "hotline-queue"
CONTEXT_REFERRAL: Final = "hotline-referral"
CONTEXT_SIMULATED_OPERATOR: Final = "hotline-simop"

# FastAGI script name the entry context calls (agi://host:port/<script>).
AGI_SCRIPT: Final = "ivr"
AGI_OPERATOR_SCRIPT: Final = "operator"
CONTEXT_OPERATORS: Final = "hotline-operators"
