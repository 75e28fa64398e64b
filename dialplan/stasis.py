"""Stasis message types the hotline's Asterisk never creates (stasis.conf ``decline``).

Asterisk builds every message of these types with a snapshot of the channel (caller id
included) and turns it into an AMI event string for whoever might listen, even when no AMI
user reads it. The hotline consumes none of them: not creating them saves Asterisk CPU on
every AGI command and every RTCP report, and keeps them off the AMI wire.

Only types that no loaded module routes or subscribes to can be declined. The manager routes
VarSet, DTMF, hold music and hangup requests itself and refuses to start when one of those
types is missing (Asterisk 22.10: "Failed to initialize manager channel handling"); app_queue
uses hangup requests, transfers, bridges and local optimization. Those stay.
"""

from __future__ import annotations

from typing import Final

# type name (Asterisk's accessor) -> the AMI events it would have produced
DECLINED_MESSAGE_TYPES: Final[dict[str, tuple[str, ...]]] = {
    "agi_exec_start_type": ("AGIExecStart",),
    "agi_exec_end_type": ("AGIExecEnd",),
    "agi_async_start_type": ("AsyncAGIStart",),
    "agi_async_exec_type": ("AsyncAGIExec",),
    "agi_async_end_type": ("AsyncAGIEnd",),
    "ast_rtp_rtcp_sent_type": ("RTCPSent",),
    "ast_rtp_rtcp_received_type": ("RTCPReceived",),
}
