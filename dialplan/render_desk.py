"""What the operator's desk adds to the rendered configuration (desk/control.py): the modules a
conference needs (a bridge that mixes three parties, BridgeAdd), and the names the desk's
dialplan contexts and the attended-transfer feature code use. Only the project's constants:
nothing here comes from the IVR document or the settings."""

from __future__ import annotations

from typing import Any

from telephony import variables as v

DESK_MODULES: tuple[str, ...] = (
    "bridge_softmix.so",  # a call's bridge with a third party (conference, emergency) mixes
    "app_bridgeaddchan.so",  # BridgeAdd: the partner's line joins the operator's bridge
)


def desk_context() -> dict[str, Any]:
    return {
        "desk": {
            "queue": v.CONTEXT_DESK_QUEUE,
            "referral": v.CONTEXT_DESK_REFERRAL,
            "consult": v.CONTEXT_DESK_CONSULT,
            "dial": "${%s}" % v.DESK_DIAL,  # noqa: UP031
            "consult_referral": v.CONSULT_REFERRAL,
            "consult_queue": v.CONSULT_QUEUE,
            "atxfer_digits": v.ATXFER_DIGITS,
            "anonymous": v.ANONYMOUS,
            "referral_number": v.REFERRAL_NUMBER,
        }
    }
