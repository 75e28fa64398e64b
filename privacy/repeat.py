"""Repeat callers without identity: how many calls came from one number, and nothing else.

A caller's number is normalised, then hashed with HMAC-SHA256 under a secret key that lives only
in this object's memory (never in the database, a file, a log or a pickle). The key is replaced
every ``period`` (default 7 days) and every hash made with the old key is dropped with it: after
a rotation nobody, not even the machine's administrator, can link a call to the calls before.
Only a 16-byte hash and a count are kept per number, at most ``cap`` of them (the least recently
seen is dropped first), so memory stays bounded whatever the traffic.

"Within the window" therefore means: since the current key was made, at most ``period`` ago.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Final, NoReturn

DEFAULT_PERIOD: Final = timedelta(days=7)
DEFAULT_CAP: Final = 1_000_000
HASH_BYTES: Final = 16  # 128 bits: no two numbers meet by chance among a million
_SEPARATORS: Final = re.compile(r"[\s\-().\/]")
_NUMBER: Final = re.compile(r"\+?[0-9]{3,20}")
_ANONYMOUS: Final = frozenset({"anonymous", "unknown", "restricted", "private", "unavailable", "withheld"})


def normalise(number: str) -> str | None:
    """The digits of a dialable number ('+7 900 000-00-01' -> '79000000001'); None when there is
    no number to count (empty, anonymous, unknown, letters, fewer than 3 digits).

    The leading '+' is dropped so '+79000000001' and '79000000001' (both seen in CallerIDNum)
    count as one caller."""
    text = number.strip()
    if not text or text.lower() in _ANONYMOUS:
        return None
    compact = _SEPARATORS.sub("", text)
    if not _NUMBER.fullmatch(compact):
        return None
    return compact.lstrip("+")


def _now() -> datetime:
    return datetime.now(UTC)


class RepeatCallers:
    """Counts calls per number under a rotating secret key; see the module docstring."""

    __slots__ = ("__key", "_born", "_cap", "_clock", "_period", "_seen", "rotations")

    def __init__(
        self,
        period: timedelta = DEFAULT_PERIOD,
        cap: int = DEFAULT_CAP,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        if period <= timedelta(0):
            raise ValueError("the repeat-caller period must be positive")
        if cap < 1:
            raise ValueError("the repeat-caller cap must be at least 1")
        self._period = period
        self._cap = cap
        self._clock = clock
        self._seen: OrderedDict[bytes, int] = OrderedDict()
        self.__key = secrets.token_bytes(32)
        self._born = clock()
        self.rotations = 0

    def __len__(self) -> int:
        return len(self._seen)

    def __repr__(self) -> str:
        return f"RepeatCallers({len(self._seen)} hashes, key since {self._born.isoformat()})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("RepeatCallers holds a secret key and cannot be pickled or copied")

    def observe(self, number: str, at: datetime) -> int | None:
        """Calls from this number within the window, this one included; None without a number."""
        digits = normalise(number)
        if digits is None:
            return None
        self.rotate_if_due(at)
        digest = hmac.new(self.__key, digits.encode("ascii"), hashlib.sha256).digest()[:HASH_BYTES]
        count = self._seen.pop(digest, 0) + 1
        self._seen[digest] = count
        if len(self._seen) > self._cap:
            self._seen.popitem(last=False)
        return count

    def rotate_if_due(self, now: datetime | None = None) -> bool:
        """Rotate when the key is ``period`` old (at ``now``, default the clock). Call it
        periodically too, so a quiet line does not keep an old key in memory."""
        if (now if now is not None else self._clock()) - self._born < self._period:
            return False
        self.rotate(now)
        return True

    def rotate(self, now: datetime | None = None) -> None:
        """A new key; every hash of the old one is forgotten."""
        self._seen.clear()
        self.__key = secrets.token_bytes(32)
        self._born = now if now is not None else self._clock()
        self.rotations += 1
