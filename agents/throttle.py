"""Signing in bounded (agents/accounts_api.py): after ``FAILURES`` failures from one address
(an IPv6 /64) within ``WINDOW_SECONDS`` it waits, and at most ``IN_FLIGHT`` password checks wait
at once for the whole service."""

from __future__ import annotations

import ipaddress
import time
from collections import deque

from core.errors import DomainError

FAILURES, WINDOW_SECONDS, IN_FLIGHT = 10, 60.0, 2


class SignInBusy(DomainError):
    error_id = "sign_in_throttled"
    status = 429
    headers = {"Retry-After": "5"}  # noqa: RUF012  - read only


class Throttle:
    """Failed sign-ins per address in a sliding window, and checks in flight for the service."""

    def __init__(
        self, failures: int = FAILURES, window: float = WINDOW_SECONDS, in_flight: int = IN_FLIGHT
    ) -> None:
        self._failures, self._window, self._cap = failures, window, in_flight
        self._seen: dict[str, deque[float]] = {}
        self.in_flight = 0

    def admit(self, address: str) -> None:
        now = time.monotonic()
        seen = self._seen.get(_bucket(address))
        while seen and now - seen[0] >= self._window:
            seen.popleft()
        if seen is not None and len(seen) >= self._failures:
            raise SignInBusy("too many failed sign-ins from this address: wait a minute")
        if self.in_flight >= self._cap:
            raise SignInBusy("the service is checking other sign-ins: try again in a few seconds")

    def failed(self, address: str) -> None:
        now = time.monotonic()
        if len(self._seen) > 10_000:  # many addresses: forget the quiet ones
            self._seen = {a: q for a, q in self._seen.items() if q and now - q[-1] < self._window}
        self._seen.setdefault(_bucket(address), deque()).append(now)


def _bucket(address: str) -> str:
    """An IPv6 address counts by its /64 (one host usually holds a whole /64); IPv4 as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if ip.version == 6:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address
