"""Accounts, sessions and machine tokens on a real database (SQLite, and PostgreSQL when one
answers): sign-in with a password and a second factor, lockout with backoff, idle and absolute
timeouts, kiosks, scopes, revocation."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from agents import passwords
from agents.accounts import Accounts
from agents.directory import OperatorDirectory, Role
from agents.exceptions import (
    AccountLocked,
    AlreadyEnrolled,
    PairingFailed,
    SecondFactorRequired,
    SignInFailed,
    UnknownKiosk,
    UnknownToken,
    WeakPassword,
)
from agents.models import ApiTokenRow, OperatorRow, SessionRow
from agents.sessions import Sessions, digest
from agents.tokens import SCOPES, Tokens, scope_of
from core.settings import AccountSettings

PASSWORD = "a long enough passphrase"


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


def person(engine: Engine, who: str = "op-anna", role: Role = Role.OPERATOR) -> str:
    OperatorDirectory(engine).create(who, who.title(), role, {})
    Accounts(engine, AccountSettings()).set_password(who, PASSWORD)
    return who


# -- passwords and codes ------------------------------------------------------------------------
def test_totp_matches_rfc_6238_and_a_code_works_once() -> None:
    secret = base64.b32encode(b"12345678901234567890").decode()  # RFC 6238's SHA-1 seed
    assert [passwords.totp(secret, t) for t in (59, 1111111109, 1234567890)] == ["287082", "081804", "005924"]
    step = passwords.totp_step(secret, "081804", 1111111109)
    assert step == 1111111109 // 30
    assert passwords.totp_step(secret, "081804", 1111111109, after=step) is None  # used: refused
    assert passwords.totp_step(secret, "081804", 1111111109 + 30) == step  # one step late: taken
    assert passwords.totp_step(secret, "081804", 1111111109 + 90) is None  # three late: not
    assert (
        passwords.totp_step(secret, "12345", 59) is None and passwords.totp_step(secret, "abcdef", 59) is None
    )


def test_a_password_is_stored_as_argon2id_and_the_policy_says_what_is_wrong(database: Engine) -> None:
    who = person(database)
    with Session(database) as session:
        stored = session.get(OperatorRow, who)
        assert stored is not None and stored.password_hash is not None
        assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash
    for weak, says in (("short", "at least 10"), ("aaaaaaaaaaaa", "more than one"), ("x" * 300, "at most")):
        with pytest.raises(WeakPassword, match=says):
            passwords.policy(weak)


# -- signing in ---------------------------------------------------------------------------------
def test_sign_in_with_the_right_password_and_never_says_which_part_was_wrong(database: Engine) -> None:
    who = person(database)
    accounts = Accounts(database, AccountSettings())
    assert accounts.sign_in(who, PASSWORD).role is Role.OPERATOR
    with pytest.raises(SignInFailed) as wrong:
        accounts.sign_in(who, "not the password")
    with pytest.raises(SignInFailed) as nobody:
        accounts.sign_in("op-nobody", PASSWORD)
    assert str(wrong.value) == str(nobody.value)
    OperatorDirectory(database).update(who, active=False)
    with pytest.raises(SignInFailed):
        accounts.sign_in(who, PASSWORD)  # deactivated: as if unknown


def test_failures_in_a_row_lock_the_account_with_a_doubling_wait(database: Engine, clock: Clock) -> None:
    who = person(database)
    settings = AccountSettings(lockout_after=3, lockout_seconds=10, lockout_max_seconds=25)
    accounts = Accounts(database, settings, clock)
    for _ in range(3):
        with pytest.raises(SignInFailed):
            accounts.sign_in(who, "wrong password")
    with pytest.raises(AccountLocked) as locked:
        accounts.sign_in(who, PASSWORD)  # even the right password waits
    assert locked.value.headers == {"Retry-After": "10"}
    clock.tick(seconds=10)
    with pytest.raises(SignInFailed):
        accounts.sign_in(who, "wrong again")  # the fourth failure: twice as long
    with pytest.raises(AccountLocked) as longer:
        accounts.sign_in(who, PASSWORD)
    assert longer.value.details == {"retry_after_seconds": 20}
    clock.tick(seconds=20)
    with pytest.raises(SignInFailed):
        accounts.sign_in(who, "and again")
    with pytest.raises(AccountLocked) as capped:
        accounts.sign_in(who, PASSWORD)
    assert capped.value.details == {"retry_after_seconds": 25}  # lockout_max_seconds
    clock.tick(seconds=25)
    accounts.sign_in(who, PASSWORD)  # right: the count starts again
    with Session(database) as session:
        row = session.get(OperatorRow, who)
        assert row is not None and row.failed_signins == 0 and row.locked_until is None


def test_an_admins_reset_lifts_the_lockout_and_gives_a_one_time_password(
    database: Engine, clock: Clock
) -> None:
    who = person(database)
    accounts = Accounts(database, AccountSettings(lockout_after=1), clock)
    with pytest.raises(SignInFailed):
        accounts.sign_in(who, "wrong password")
    with pytest.raises(AccountLocked):
        accounts.sign_in(who, PASSWORD)
    fresh = OperatorDirectory(database).reset_credentials(who).password
    assert accounts.sign_in(who, fresh).id == who
    with pytest.raises(SignInFailed):
        accounts.sign_in(who, PASSWORD)  # the old one is gone


def test_a_second_factor_is_enrolled_then_asked_for_and_each_code_works_once(
    database: Engine, clock: Clock
) -> None:
    who = person(database, "lead-olga", Role.SHIFT_LEAD)
    accounts = Accounts(database, AccountSettings(totp_roles=["shift_lead", "admin"]), clock)
    assert accounts.sign_in(who, PASSWORD).must_enrol
    enrolment = accounts.begin_enrolment(who)
    assert enrolment.uri.startswith("otpauth://totp/Hotline%3Alead-olga?secret=" + enrolment.secret)
    with pytest.raises(SignInFailed, match="does not match"):
        accounts.confirm_enrolment(
            who, "000000" if passwords.totp(enrolment.secret, clock.now.timestamp()) != "000000" else "111111"
        )
    done = accounts.confirm_enrolment(who, passwords.totp(enrolment.secret, clock.now.timestamp()))
    assert done.second_factor and not done.must_enrol
    with pytest.raises(AlreadyEnrolled):
        accounts.begin_enrolment(who)
    clock.tick(seconds=30)
    with pytest.raises(SecondFactorRequired):
        accounts.sign_in(who, PASSWORD)
    code = passwords.totp(enrolment.secret, clock.now.timestamp())
    assert accounts.sign_in(who, PASSWORD, code).second_factor
    with pytest.raises(SignInFailed):
        accounts.sign_in(who, PASSWORD, code)  # the same code again: refused
    accounts.reset_second_factor(who)
    assert accounts.sign_in(who, PASSWORD).must_enrol  # a lost phone: enrol again


def test_changing_ones_password_needs_the_current_one(database: Engine) -> None:
    who = person(database)
    accounts = Accounts(database, AccountSettings())
    with pytest.raises(SignInFailed):
        accounts.change_password(who, "not the current", "a brand new passphrase")
    with pytest.raises(WeakPassword):
        accounts.change_password(who, PASSWORD, PASSWORD)
    accounts.change_password(who, PASSWORD, "a brand new passphrase")
    assert accounts.sign_in(who, "a brand new passphrase").id == who


# -- sessions -----------------------------------------------------------------------------------
def test_a_session_ends_when_idle_at_its_absolute_timeout_and_with_its_person(
    database: Engine, clock: Clock
) -> None:
    who = person(database)
    sessions = Sessions(database, AccountSettings(idle_minutes=10, absolute_hours=1), clock)
    secret, found = sessions.open(who)
    with Session(database) as session:
        assert session.get(SessionRow, digest(secret)) is not None  # found by its hash
        assert session.scalars(select(SessionRow).where(SessionRow.id == secret)).first() is None
    for _ in range(5):  # used every 9 minutes: alive until the absolute timeout
        clock.tick(minutes=9)
        again = sessions.find(secret)
        assert again is not None and again.public_id == found.public_id
        assert again.idle_until == clock.now + timedelta(minutes=10)  # each request: ten more minutes
    clock.tick(minutes=9)  # 54 minutes in
    assert sessions.find(secret) is not None
    clock.tick(minutes=7)  # 61: past the hour
    assert sessions.find(secret) is None
    idle, _ = sessions.open(who)
    clock.tick(minutes=10)
    assert sessions.find(idle) is None  # ten minutes without a request
    kept, _ = sessions.open(who)
    OperatorDirectory(database).update(who, active=False)
    assert sessions.find(kept) is None  # deactivated: at once, before any end_all
    OperatorDirectory(database).update(who, active=True)
    assert sessions.end_all(who) >= 1 and sessions.find(kept) is None


def test_sign_out_ends_one_session_and_a_password_change_keeps_only_its_own(database: Engine) -> None:
    who = person(database)
    sessions = Sessions(database, AccountSettings())
    one, _ = sessions.open(who)
    two, _ = sessions.open(who)
    three, _ = sessions.open(who)
    sessions.end(one)
    assert sessions.find(one) is None and sessions.find(two) is not None
    assert sessions.end_all(who, keep=three) == 1
    assert sessions.find(two) is None and sessions.find(three) is not None


def test_a_kiosk_pairs_once_reads_as_a_kiosk_and_is_revoked(database: Engine, clock: Clock) -> None:
    admin = person(database, "root-admin", Role.ADMIN)
    sessions = Sessions(database, AccountSettings(kiosk_days=30), clock)
    code, kiosk = sessions.issue_kiosk("hall TV", admin)
    assert not kiosk.paired and [k.label for k in sessions.kiosks()] == ["hall TV"]
    secret, found = sessions.pair(code)
    assert found.kind == "kiosk" and found.label == "hall TV"
    with pytest.raises(PairingFailed):
        sessions.pair(code)  # once
    clock.tick(days=29)
    assert sessions.find(secret) is not None  # no idle timeout for a TV
    OperatorDirectory(database).update(admin, active=False)
    assert sessions.find(secret) is not None  # the line's TV, not the admin's
    sessions.revoke_kiosk(kiosk.id)
    assert sessions.find(secret) is None and sessions.kiosks() == []
    with pytest.raises(UnknownKiosk):
        sessions.revoke_kiosk(kiosk.id)
    late, _ = sessions.issue_kiosk("late TV", admin)
    clock.tick(minutes=16)
    with pytest.raises(PairingFailed):
        sessions.pair(late)  # a pairing code lasts 15 minutes


# -- machine tokens -----------------------------------------------------------------------------
def test_a_token_is_shown_once_stored_hashed_scoped_expiring_and_revocable(
    database: Engine, clock: Clock
) -> None:
    tokens = Tokens(database, clock)
    token, about = tokens.create("nightly export", ["records:read"], 2, "root-admin")
    assert token.startswith(f"hlt_{about.id}_")
    with Session(database) as session:
        row = session.get(ApiTokenRow, about.id)
        assert row is not None and token.split("_", 2)[2] not in row.secret_hash
    found = tokens.find(token)
    assert found is not None and found.scopes == ("records:read",)
    assert [t.used_at for t in tokens.all()] == [clock.now]  # when it was last used, for the list
    assert tokens.find(token[:-1] + ("A" if token[-1] != "A" else "B")) is None  # wrong secret
    assert tokens.find("hlt_nothing") is None
    clock.tick(days=2)
    assert tokens.find(token) is None  # expired
    other, about2 = tokens.create("prometheus", ["metrics:read"], None, "root-admin")
    assert tokens.find(other) is not None  # never expires
    tokens.revoke(about2.id)
    assert tokens.find(other) is None
    with pytest.raises(UnknownToken):
        tokens.revoke("0000000000000000")
    with pytest.raises(ValueError, match="unknown scopes"):
        tokens.create("bad", ["records:delete"], 1, "root-admin")
    assert scope_of("ivr", "GET") == "ivr:read" and scope_of("ivr", "DELETE") == "ivr:write"
    assert len(SCOPES) == len(set(SCOPES))


def test_a_name_no_account_has_locks_like_an_account_so_lockout_tells_nothing(
    database: Engine, clock: Clock
) -> None:
    who = person(database)
    accounts = Accounts(database, AccountSettings(lockout_after=2, lockout_seconds=30), clock)
    answers = {}
    for name in (who, "op-nobody"):
        seen = []
        for _ in range(3):
            with pytest.raises((SignInFailed, AccountLocked)) as refused:
                accounts.sign_in(name, "not the password")
            seen.append((type(refused.value).__name__, getattr(refused.value, "details", None)))
        answers[name] = seen
    assert answers[who] == answers["op-nobody"]
    assert answers[who][-1] == ("AccountLocked", {"retry_after_seconds": 30})


def test_a_wrong_current_password_counts_and_locks_like_a_failed_sign_in(
    database: Engine, clock: Clock
) -> None:
    who = person(database)
    accounts = Accounts(database, AccountSettings(lockout_after=2, lockout_seconds=30), clock)
    for _ in range(2):
        with pytest.raises(SignInFailed):
            accounts.change_password(who, "a guess at it", "a brand new passphrase")
    with pytest.raises(AccountLocked):
        accounts.change_password(who, PASSWORD, "a brand new passphrase")  # even the right one waits
    with pytest.raises(AccountLocked):
        accounts.sign_in(who, PASSWORD)
    clock.tick(seconds=30)
    accounts.change_password(who, PASSWORD, "a brand new passphrase")
    assert accounts.sign_in(who, "a brand new passphrase").id == who


def test_failures_from_two_threads_are_all_counted(database: Engine) -> None:
    who = person(database)
    accounts = Accounts(database, AccountSettings(lockout_after=100))

    def fail() -> None:
        for _ in range(5):
            with pytest.raises(SignInFailed):
                accounts.sign_in(who, "not the password")

    threads = [threading.Thread(target=fail) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(database) as session:
        row = session.get(OperatorRow, who)
        assert row is not None and row.failed_signins == 10
