"""Tones for the sandbox's synthetic parties: a sine of one frequency as G.711 µ-law (PCMU) RTP
packets in a pcap that sipp's ``play_pcap_audio`` replays (as sandbox/scenarios.py's
``dtmf_pcap`` does for key presses). The supervision test plays a different tone from each
party and measures which tones reach whom."""

from __future__ import annotations

import math
import struct

SAMPLE_RATE = 8000
SAMPLES_PER_PACKET = 160  # 20 ms
_BIAS, _CLIP = 0x84, 32635


def ulaw(sample: int) -> int:
    """One 16-bit linear sample as a G.711 µ-law byte."""
    sign = 0x80 if sample < 0 else 0
    magnitude = min(abs(sample), _CLIP) + _BIAS
    exponent = max(magnitude.bit_length() - 8, 0)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return ~(sign | (exponent << 4) | mantissa) & 0xFF


def tone_payloads(freq_hz: float, seconds: float, amplitude: float = 0.25) -> list[bytes]:
    """20 ms PCMU payloads of a continuous sine, ``amplitude`` of full scale."""
    total = int(seconds * SAMPLE_RATE) // SAMPLES_PER_PACKET * SAMPLES_PER_PACKET
    peak = amplitude * 32767
    step = 2 * math.pi * freq_hz / SAMPLE_RATE
    table = bytes(ulaw(round(peak * math.sin(step * n))) for n in range(total))
    return [table[i : i + SAMPLES_PER_PACKET] for i in range(0, total, SAMPLES_PER_PACKET)]


def tone_pcap(freq_hz: float, seconds: float, ssrc: int, amplitude: float = 0.25) -> bytes:
    """A pcap (Ethernet link type) of RTP packets, payload type 0, 20 ms apart."""
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    frames = []
    for k, payload in enumerate(tone_payloads(freq_hz, seconds, amplitude)):
        rtp = (
            struct.pack("!BBHII", 0x80, 0, (1000 + k) & 0xFFFF, 8000 + k * SAMPLES_PER_PACKET, ssrc) + payload
        )
        udp = struct.pack("!HHHH", 6000, 6000, 8 + len(rtp), 0) + rtp
        ip = struct.pack(
            "!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), k & 0xFFFF, 0, 64, 17, 0, bytes(4), bytes(4)
        )
        frame = bytes(12) + b"\x08\x00" + ip + udp
        micros = 20_000 * k
        frames.append(
            struct.pack("<IIII", micros // 1_000_000, micros % 1_000_000, len(frame), len(frame)) + frame
        )
    return header + b"".join(frames)
