"""Twilio's side of a hand-over, played by sipp (tests and trying a line out): the INVITE that
Twilio's ``<Dial callerId="anonymous"><Sip>`` sends to the hotline's SIP entry, with the route
in X- headers, answering the digest challenge of Asterisk's endpoint for Twilio, then staying on
the line until the far end hangs up. Its From is ``anonymous``, as Twilio's is."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sandbox.scenarios import OK_TO_BYE, CallgenError

_HEADER_NAME = re.compile(r"X-Hotline-[A-Za-z-]{1,40}")
_HEADER_VALUE = re.compile(r"[A-Za-z0-9_.-]{0,64}")


def _request(user: str, cseq: str, headers: str, auth: str = "") -> str:
    return f"""INVITE sip:{user}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "anonymous" <sip:anonymous@anonymous.invalid>;tag=[pid]tw[call_number]
To: <sip:{user}@[remote_ip]>
Call-ID: [call_id]
CSeq: {cseq} INVITE
Contact: <sip:anonymous@[local_ip]:[local_port]>
Max-Forwards: 70
{headers}{auth}
Content-Type: application/sdp
Content-Length: [len]

v=0
o=twilio 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000"""


def _ack(user: str, cseq: str) -> str:
    return f"""ACK sip:{user}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "anonymous" <sip:anonymous@anonymous.invalid>;tag=[pid]tw[call_number]
To: <sip:{user}@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
CSeq: {cseq} ACK
Max-Forwards: 70
Content-Length: 0"""


def hand_over_scenario(
    headers: Mapping[str, str],
    username: str,
    password: str,
    user: str = "twilio",
    wait_for_bye_ms: int = 60_000,
) -> str:
    """The hand-over's INVITE with ``headers`` (X-Hotline-* only), digest credentials when
    challenged (``password`` empty: none, the call must be refused), then the far end's BYE."""
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name) or not _HEADER_VALUE.fullmatch(value):
            raise CallgenError(f"not a hand-over header: {name}")
    lines = "".join(f"{name}: {value}\n" for name, value in headers.items()).rstrip("\n")
    answered = _request(user, "2", lines, f"\n[authentication username={username} password={password}]")
    if not password:  # refused: a 401 to answer with nothing
        return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="twilio hand-over without credentials">
<send retrans="500"><![CDATA[
{_request(user, "1", lines)}
]]></send>
<recv response="100" optional="true"/>
<recv response="401"/>
<send><![CDATA[
{_ack(user, "1")}
]]></send>
</scenario>
"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="twilio hand-over">
<send retrans="500"><![CDATA[
{_request(user, "1", lines)}
]]></send>
<recv response="100" optional="true"/>
<recv response="401" auth="true"/>
<send><![CDATA[
{_ack(user, "1")}
]]></send>
<send retrans="500"><![CDATA[
{answered}
]]></send>
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="183" optional="true"/>
<recv response="200"/>
<send><![CDATA[
{_ack(user, "2")}
]]></send>
<recv request="BYE" timeout="{wait_for_bye_ms}"/>
{OK_TO_BYE}
</scenario>
"""
