"""What each party of a real call hears: RTP that Asterisk sends on the loopback interface,
captured with a raw AF_PACKET socket (root; no tcpdump needed), by the party's media port,
decoded from G.711 µ-law and measured per tone (Goertzel, per 20 ms packet).

``tone_share``: the share of the received energy at one frequency (1.0: a pure tone; two equal
tones mixed: about 0.5 each; a tone not there: about 0)."""

from __future__ import annotations

import socket
import struct
import threading
import time
from dataclasses import dataclass, field

import numpy as np

ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4  # loopback shows each packet twice: sent and received; keep the received
SAMPLE_RATE = 8000


def _ulaw_table() -> np.ndarray:
    values = []
    for byte in range(256):
        u = ~byte & 0xFF
        exponent, mantissa = (u >> 4) & 0x07, u & 0x0F
        magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
        values.append(-magnitude if u & 0x80 else magnitude)
    return np.array(values, dtype=np.float64)


ULAW = _ulaw_table()


@dataclass
class Capture:
    """RTP from Asterisk's ports (``rtp_ports``) to the parties' media ports, with arrival times."""

    rtp_ports: range
    parties: dict[int, str]  # media port -> party name
    packets: dict[str, list[tuple[float, bytes]]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def __enter__(self) -> Capture:
        self._sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
        self._sock.bind(("lo", 0))
        self._sock.settimeout(0.2)
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)
        self._sock.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                frame, address = self._sock.recvfrom(65535)
            except TimeoutError:
                continue
            if address[2] != PACKET_OUTGOING:
                self._take(frame, time.monotonic())

    def _take(self, frame: bytes, at: float) -> None:
        if len(frame) < 14 + 20 + 8 + 12 or frame[12:14] != b"\x08\x00" or frame[14 + 9] != 17:
            return
        ip = 14 + (frame[14] & 0x0F) * 4
        source, destination = struct.unpack("!HH", frame[ip : ip + 4])
        party = self.parties.get(destination)
        if party is None or source not in self.rtp_ports:
            return
        rtp = frame[ip + 8 :]
        if rtp[1] & 0x7F != 0:  # PCMU only (not key presses)
            return
        start = 12 + 4 * (rtp[0] & 0x0F)
        if rtp[0] & 0x10:  # a header extension
            start += 4 + 4 * struct.unpack("!H", rtp[start + 2 : start + 4])[0]
        self.packets.setdefault(party, []).append((at, bytes(rtp[start:])))

    def heard(self, party: str, start: float, end: float) -> list[bytes]:
        return [payload for at, payload in list(self.packets.get(party, [])) if start <= at < end]


def tone_share(payloads: list[bytes], freq_hz: float) -> float:
    """Energy at ``freq_hz`` over all energy, summed packet by packet (a packet lost or a jump
    of phase between packets costs nothing)."""
    at_freq, total = 0.0, 0.0
    for payload in payloads:
        x = ULAW[np.frombuffer(payload, dtype=np.uint8)]
        n = len(x)
        if n == 0:
            continue
        basis = np.exp(-2j * np.pi * freq_hz * np.arange(n) / SAMPLE_RATE)
        at_freq += 2 * abs(np.dot(x, basis)) ** 2 / n
        total += float(np.dot(x, x))
    return at_freq / total if total else 0.0


def level(payloads: list[bytes]) -> float:
    """RMS of what was heard, in 16-bit units."""
    x = ULAW[np.frombuffer(b"".join(payloads), dtype=np.uint8)] if payloads else np.zeros(1)
    return float(np.sqrt(np.mean(x * x)))
