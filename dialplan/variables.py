"""Names shared by the rendered dialplan and the Python side: one place, no string drift."""

from typing import Final

# Set by the IVR; the dialplan trusts the IVR only when IVR_RESULT equals IVR_OK.
IVR_RESULT: Final = "HOTLINE_IVR_RESULT"
IVR_OK: Final = "queue"
QUEUE: Final = "HOTLINE_QUEUE"
FALLBACK: Final = "HOTLINE_FALLBACK"

# Dialplan contexts.
CONTEXT_INCOMING: Final = "hotline-in"
CONTEXT_ENTRY: Final = "hotline-entry"
CONTEXT_QUEUE: Final = "hotline-queue"
CONTEXT_SIMULATED_OPERATOR: Final = "hotline-simop"

# FastAGI script name the entry context calls (agi://host:port/<script>).
AGI_SCRIPT: Final = "ivr"
