"""The sipp scenarios of the sandbox's synthetic parties: callers pressing real RFC 2833 DTMF,
partner lines, softphones that register, dial feature codes or answer as operators.

Each is XML text for sipp, built from a plan; nothing here runs a process (sandbox/callgen.py does).
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass
from pathlib import Path

DTMF_EVENTS = {**{str(d): d for d in range(10)}, "*": 10, "#": 11}
_SSRC = 0x484C4E45


class CallgenError(RuntimeError):
    pass


@dataclass(frozen=True)
class CallPlan:
    """One caller: who they pretend to be, what they press, when they give up.

    ``digits``: pressed one by one, ``gap_ms`` apart, starting ``first_digit_ms`` after answer.
    ``hangup_after_ms``: the caller hangs up after this long (from answer); ``None``: the caller
    stays until the far end (an operator) hangs up.
    """

    number: str
    digits: str = ""  # 0-9, * and #
    name: str = "Synthetic Caller"
    first_digit_ms: int = 2500
    gap_ms: int = 2500
    hangup_after_ms: int | None = None


def dtmf_pcap(position: int, digit: str) -> bytes:
    """One RFC 4733 key press as a pcap sipp replays: 8 event packets 20 ms apart, then the
    end packet three times. Timestamps and sequence numbers grow with ``position``: Asterisk
    drops an end event whose timestamp is not newer than the last one (the sample pcaps that
    ship with sipp all carry fixed timestamps, so a '1' after a '3' was lost)."""
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    timestamp, first_seq = 16000 * (position + 1), 100 + 20 * position
    frames = []
    for k in range(11):
        end = k >= 8
        duration = 160 * min(k + 1, 9)
        rtp = struct.pack(
            "!BBHIIBBH",
            0x80,
            (0x80 if k == 0 else 0) | 101,
            first_seq + k,
            timestamp,
            _SSRC,
            DTMF_EVENTS[digit],
            (0x80 if end else 0) | 10,
            duration,
        )
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), k, 0, 64, 17, 0, bytes(4), bytes(4)) + udp
        frame = bytes(12) + b"\x08\x00" + ip
        micros = 20_000 * min(k, 8)
        frames.append(struct.pack("<IIII", 0, micros, len(frame), len(frame)) + frame)
    return header + b"".join(frames)


def _press(pcaps: Path, position: int, digit: str) -> str:  # its pcap written into pcaps once
    pcap = pcaps / f"dtmf-{position}-{DTMF_EVENTS[digit]}.pcap"
    if not pcap.exists():
        pcap.write_bytes(dtmf_pcap(position, digit))
    return f'<nop><action><exec play_pcap_audio="{pcap}"/></action></nop>'


def _dtmf_actions(plan: CallPlan, pcaps: Path) -> str:
    parts = [f'<pause milliseconds="{plan.first_digit_ms}"/>']
    for i, digit in enumerate(plan.digits):
        if i:
            parts.append(f'<pause milliseconds="{plan.gap_ms}"/>')
        parts.append(_press(pcaps, i, digit))
    return "\n".join(parts)


def _elapsed_dtmf_ms(plan: CallPlan) -> int:
    return plan.first_digit_ms + plan.gap_ms * (len(plan.digits) - 1) if plan.digits else 0


_HEADERS = """Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "[field1]" <sip:[field0]@[local_ip]:[local_port]>;tag=[pid]HL[call_number]
To: <sip:[service]@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]"""


OK_TO_BYE = """<send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>"""


def _answer(party: str) -> str:
    """A UAS's 200 OK with an SDP offer of PCMU; ``party`` names the To tag and the SDP origin."""
    return f"""<send retrans="500"><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:];tag=[pid]{party}[call_number]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[local_ip]:[local_port]>
Content-Type: application/sdp
Content-Length: [len]

v=0
o={party} 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0
a=rtpmap:0 PCMU/8000
]]></send>"""


_FAR_END_HUNG_UP, _DONE = 90, 91  # labels of the caller's scenario


def _caller_keys(plan: CallPlan, pcaps: Path) -> str:
    """The caller's key presses; each wait before one takes a BYE: the far end (the dialplan, an
    operator) may end the call first, and that call went through, it did not fail."""
    parts = []
    for i, digit in enumerate(plan.digits):
        wait = plan.first_digit_ms if i == 0 else plan.gap_ms
        parts.append(f'<recv request="BYE" timeout="{wait}" ontimeout="{i + 1}" next="{_FAR_END_HUNG_UP}"/>')
        parts += [f'<label id="{i + 1}"/>', _press(pcaps, i, digit)]
    return "\n".join(parts)


def scenario(plan: CallPlan, wait_for_bye_ms: int, pcaps: Path) -> str:
    """A UAC scenario: INVITE, ACK, DTMF, then either wait for BYE or send one after
    ``plan.hangup_after_ms``; a BYE from the far end is taken at any point after the answer."""
    if plan.hangup_after_ms is None:
        ending = f'<recv request="BYE" timeout="{wait_for_bye_ms}" next="{_FAR_END_HUNG_UP}"/>'
    else:
        pause = max(plan.hangup_after_ms - _elapsed_dtmf_ms(plan), 0)
        sends = len(plan.digits) + 1
        ending = f"""<recv request="BYE" timeout="{pause}" ontimeout="{sends}" next="{_FAR_END_HUNG_UP}"/>
<label id="{sends}"/>
<send retrans="500"><![CDATA[
BYE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
{_HEADERS}
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0
]]></send>
<recv response="200" next="{_DONE}"/>"""
    ending += f"""
<label id="{_FAR_END_HUNG_UP}"/>
{OK_TO_BYE}
<label id="{_DONE}"/>"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="hotline caller">
<send retrans="500"><![CDATA[
INVITE sip:[service]@[remote_ip]:[remote_port] SIP/2.0
{_HEADERS.replace("[peer_tag_param]", "")}
CSeq: 1 INVITE
Contact: <sip:[field0]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=caller 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[local_ip_type] [local_ip]
t=0 0
m=audio [auto_media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000
a=fmtp:101 0-15
]]></send>
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="183" optional="true"/>
<recv response="200" rtd="true"/>
<send><![CDATA[
ACK sip:[service]@[remote_ip]:[remote_port] SIP/2.0
{_HEADERS}
CSeq: 1 ACK
Max-Forwards: 70
Content-Length: 0
]]></send>
{_caller_keys(plan, pcaps)}
{ending}
</scenario>
"""


def _leak_check(forbidden: str) -> str:
    """An sipp action that fails the call if ``forbidden`` appears anywhere in the message
    (assigned to ``leak`` either way, so scenarios can reference it)."""
    if not forbidden:
        return '<ereg regexp="." search_in="msg" assign_to="leak"/>'
    return f'<ereg regexp="{re.escape(forbidden)}" search_in="msg" check_it_inverse="true" assign_to="leak"/>'


def partner_line_scenario(number: str, forbidden: str = "") -> str:
    """A partner organisation's line (UAS): answers, and fails the call unless it was dialled
    as ``number`` and ``forbidden`` (e.g. the start of the callers' numbers) is nowhere in it."""
    if not re.fullmatch(r"\+?[0-9]{3,20}", number) or not re.fullmatch(r"[0-9+]*", forbidden):
        raise CallgenError("a partner line needs a number of digits")
    leak = _leak_check(forbidden)
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="partner line">
<recv request="INVITE">
  <action>
    <ereg regexp="^INVITE sip:{re.escape(number)}@" search_in="msg" check_it="true" assign_to="uri"/>
    {leak}
  </action>
</recv>
{_answer("partner")}
<recv request="ACK"/>
<Reference variables="uri,leak"/>
<recv request="BYE"/>
{OK_TO_BYE}
</scenario>
"""


def softphone_register_scenario(username: str, password: str) -> str:
    """REGISTER with digest authentication, as an operator's softphone does; then stay 1.5 s to
    answer Asterisk's qualify OPTIONS (run sipp with -aa), or the phone counts as unreachable."""
    if not re.fullmatch(r"[a-z][a-z0-9_-]{1,39}", username) or not re.fullmatch(
        r"[A-Za-z0-9_-]{8,64}", password
    ):
        raise CallgenError("a softphone needs a plain username and password")
    register = f"""REGISTER sip:[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{username}@[remote_ip]>;tag=[pid]reg[call_number]
To: <sip:{username}@[remote_ip]>
Call-ID: [call_id]
Contact: <sip:{username}@[local_ip]:[local_port]>
Expires: 300
Max-Forwards: 70
Content-Length: 0"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="softphone register">
<send retrans="500"><![CDATA[
{register.replace("[call_number]", "[call_number]")}
CSeq: 1 REGISTER
]]></send>
<recv response="401" auth="true"/>
<send retrans="500"><![CDATA[
{register}
CSeq: 2 REGISTER
[authentication username={username} password={password}]
]]></send>
<recv response="200"/>
<pause milliseconds="1500"/>
</scenario>
"""


def softphone_feature_scenario(username: str, password: str, code: str) -> str:
    """Dial a feature code (e.g. *41) from an operator's softphone; Asterisk hangs up after."""
    if not re.fullmatch(r"\*[0-9]{2,4}", code):
        raise CallgenError("a feature code looks like *41")
    invite = f"""INVITE sip:{code}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{username}@[remote_ip]>;tag=[pid]ft[call_number]
To: <sip:{code}@[remote_ip]>
Call-ID: [call_id]
Contact: <sip:{username}@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]"""
    sdp = """v=0
o=op 1 1 IN IP[local_ip_type] [local_ip]
s=-
c=IN IP[media_ip_type] [media_ip]
t=0 0
m=audio [media_port] RTP/AVP 0 101
a=rtpmap:0 PCMU/8000
a=rtpmap:101 telephone-event/8000"""
    ack = f"""ACK sip:{code}@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:{username}@[remote_ip]>;tag=[pid]ft[call_number]
To: <sip:{code}@[remote_ip]>[peer_tag_param]
Call-ID: [call_id]
Max-Forwards: 70
Content-Length: 0"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="softphone feature code">
<send retrans="500"><![CDATA[
{invite}
CSeq: 1 INVITE

{sdp}
]]></send>
<recv response="100" optional="true"/>
<recv response="401" auth="true"/>
<send><![CDATA[
{ack.replace("[peer_tag_param]", "[peer_tag_param]")}
CSeq: 1 ACK
]]></send>
<send retrans="500"><![CDATA[
{invite}
CSeq: 2 INVITE
[authentication username={username} password={password}]

{sdp}
]]></send>
<recv response="100" optional="true"/>
<recv response="180" optional="true"/>
<recv response="183" optional="true"/>
<recv response="200"/>
<send><![CDATA[
{ack}
CSeq: 2 ACK
]]></send>
<recv request="BYE" timeout="15000"/>
{OK_TO_BYE}
</scenario>
"""


# The caller leg's From tag, which a BYE from the softphone must name as its To tag.
_FAR_TAG = (
    '<ereg regexp="tag=([^;> \\r\\n]+)" search_in="hdr" header="From:" check_it="true" '
    'assign_to="far_tag_all,far_tag"/>'
)


def softphone_answer_scenario(
    forbidden: str = "",
    keys: str = "",
    hangup_after_ms: int | None = None,
    pcaps: Path | None = None,
    keys_after_ms: int = 1000,
    stop_after_call: bool = True,
    ring_ms: int = 0,
) -> str:
    """An operator's softphone receiving one call (UAS): rings, answers, presses ``keys`` one
    ``keys_after_ms`` after answering (a feature code such as *9, needs ``pcaps``, a directory for the
    key files), then hangs up after ``hangup_after_ms`` or waits for the far end to. Fails the
    call if ``forbidden`` (the callers' number prefix) reaches it. ``stop_after_call``: sipp
    exits after this call; run it without ``-m``, because sipp counts the qualify OPTIONS it
    answers (``-aa``) as calls, so ``-m 1`` could end before any INVITE came. ``ring_ms``: how
    long it rings before answering."""
    leak = _leak_check(forbidden)
    stop = '<nop><action><exec int_cmd="stop_gracefully"/></action></nop>' if stop_after_call else ""
    pressed = ""
    if keys:
        assert pcaps is not None, "keys need a directory for their pcap files"
        pressed = _dtmf_actions(
            CallPlan(number="0", digits=keys, first_digit_ms=keys_after_ms, gap_ms=300), pcaps
        )
    unused = ",far_tag" if hangup_after_ms is None else ""  # sipp refuses unused variables
    if hangup_after_ms is None:
        ending = f"""<recv request="BYE" timeout="60000"/>
{OK_TO_BYE}"""
    else:
        ending = f"""<pause milliseconds="{hangup_after_ms}"/>
<send retrans="500"><![CDATA[
BYE [next_url] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: <sip:op@[local_ip]:[local_port]>;tag=[pid]op[call_number]
To: <sip:hotline@[remote_ip]:[remote_port]>;tag=[$far_tag]
[last_Call-ID:]
CSeq: 2 BYE
Max-Forwards: 70
Content-Length: 0
]]></send>
<recv response="200"/>"""
    return f"""<?xml version="1.0" encoding="ISO-8859-1" ?>
<scenario name="softphone answers">
<recv request="INVITE" rrs="true"><action>{leak}{_FAR_TAG}</action></recv>
<send><![CDATA[
SIP/2.0 180 Ringing
[last_Via:]
[last_From:]
[last_To:];tag=[pid]op[call_number]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
{f'<pause milliseconds="{ring_ms}"/>' if ring_ms else ""}
{_answer("op")}
<recv request="ACK"/>
<Reference variables="leak,far_tag_all{unused}"/>
{pressed}
{ending}
{stop}
</scenario>
"""
