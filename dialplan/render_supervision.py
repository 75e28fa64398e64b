"""What supervision (supervision/) adds to the rendered configuration: ChanSpy's module, the
context the supervisor's call spies in (its extensions are the modes' keys: 4 listen, 5 whisper,
6 barge), the context ChanSpy leaves to when the supervisor presses one of those keys, and the
seniors' feature codes (*44<operator>, *45<operator>, *46<operator>). Only the project's
constants and the FastAGI address: nothing here comes from the IVR document."""

from __future__ import annotations

from typing import Any

from telephony import variables as v

SUPERVISION_MODULES: tuple[str, ...] = ("app_chanspy.so",)

# ChanSpy's options per mode key: q no beep nor name spoken, E leave when the operator's call
# ends, S leave when there is nobody to spy on, X leave to SPY_EXIT_CONTEXT on a key; w whisper
# (the operator hears the supervisor), B barge (both parties do).
SPY_OPTIONS: dict[str, str] = {"4": "qESX", "5": "qESXw", "6": "qESXB"}


def supervision_context(agi_base: str) -> dict[str, Any]:
    """``agi_base``: ``agi://host:port`` of the hotline's FastAGI server (from the settings: data,
    checked as every value is; ``supervise`` holds the project's constants, rendered as they are)."""
    return {
        "supervision_agi_url": f"{agi_base}/{v.AGI_SUPERVISION_SCRIPT}",
        "supervise": {
            "context": v.CONTEXT_SUPERVISE,
            "keys_context": v.CONTEXT_SUPERVISE_KEYS,
            "session": "${%s}" % v.SPY_SESSION,  # noqa: UP031
            "target": "${%s}" % v.SPY_TARGET,  # noqa: UP031
            "session_var": v.SPY_SESSION,
            "modes": sorted(SPY_OPTIONS.items()),
            "code": v.SUPERVISION_CODE,
        },
    }
