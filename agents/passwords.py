"""Sign-in secrets: passwords hashed with argon2id, and the time-based one-time codes (TOTP,
RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) of an authenticator app.

A password is checked in a worker thread, one at a time (``CHECKS``): argon2id is memory-hard
on purpose, so a flood of sign-ins waits for its turn instead of taking the cores the call path
needs. An unknown account costs the same check as a wrong password (``check_absent``), so the
answer's time does not tell which names exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlencode

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from agents.exceptions import WeakPassword

# OWASP's argon2id configuration (19 MiB, 2 passes, 1 lane): about 30 ms on one of these cores.
# A stored hash names its parameters, so raising them later still checks the old hashes.
_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
CHECKS = threading.Semaphore(1)  # argon2 checks run one at a time, whichever thread asks
# Sign-ins and password changes run here, never in asyncio's default pool: a flood of them waits
# in this one thread's queue (bounded by accounts_api's in-flight cap), not in the threads the
# guards, the desk and presence need.
EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argon2")
MIN_LENGTH, MAX_LENGTH = 10, 256
_ABSENT = _HASHER.hash(secrets.token_urlsafe(16))  # the hash an unknown account is checked against

STEP_SECONDS, DIGITS = 30, 6


def policy(password: str) -> None:
    """A password we accept: 10 to 256 characters, not all one character (NIST SP 800-63B:
    length over composition rules; passphrases welcome)."""
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password may have at most {MAX_LENGTH} characters")
    if len(set(password)) < 3:
        raise WeakPassword("a password needs more than one or two different characters")


def hash_password(password: str) -> str:
    with CHECKS:
        return _HASHER.hash(password)


def check(password: str, stored: str | None) -> bool:
    """Whether this password is the one stored (an account without one never matches)."""
    with CHECKS:
        try:
            return _HASHER.verify(stored or _ABSENT, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False


def check_absent(password: str) -> bool:
    """The same work as :func:`check`, for a name no account has: always False."""
    check(password, None)
    return False


def digest(secret: str) -> str:
    """How a random secret is kept (a token, a cookie, a pairing code): its sha256, in hex. Fit
    for secrets with the entropy of ``secrets.token_urlsafe``, never for passwords."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_password() -> str:
    """A one-time password an admin hands over (the person sets their own after)."""
    return secrets.token_urlsafe(12)


# --- TOTP ---------------------------------------------------------------------------------


def new_totp_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def totp(secret: str, at: float | None = None) -> str:
    """The code of this secret for the 30 s step holding ``at`` (now when None)."""
    return _code(secret, int((time.time() if at is None else at) // STEP_SECONDS))


def _code(secret: str, counter: int) -> str:
    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**DIGITS).zfill(DIGITS)


def totp_step(secret: str, code: str, at: float | None = None, after: int = -1) -> int | None:
    """The step this code belongs to (now, or one step either side for a slow clock), or None.
    A step at or before ``after`` (the last code used) is refused: a code works once."""
    code = code.strip().replace(" ", "")
    if not (code.isdigit() and len(code) == DIGITS):
        return None
    now = int((time.time() if at is None else at) // STEP_SECONDS)
    for step in (now, now - 1, now + 1):
        if step > after and hmac.compare_digest(_code(secret, step), code):
            return step
    return None


def otpauth_uri(account: str, secret: str, issuer: str) -> str:
    """What an authenticator app reads (typed in, or as a QR code)."""
    label = quote(f"{issuer}:{account}")
    query = urlencode({"secret": secret, "issuer": issuer, "digits": DIGITS, "period": STEP_SECONDS})
    return f"otpauth://totp/{label}?{query}"
