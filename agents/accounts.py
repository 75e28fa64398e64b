"""Signing in with a password and, where the line requires it, a second factor (TOTP); lockout
with backoff after failures in a row; a person's own password and authenticator app.

Every person has an account: the operator's row (agents/models.py), admins included. Checks run
in a worker thread (argon2id is slow on purpose; agents/passwords.py runs one at a time).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from agents import passwords
from agents.directory import Role
from agents.exceptions import (
    AccountLocked,
    AlreadyEnrolled,
    SecondFactorRequired,
    SignInFailed,
    UnknownOperator,
    WeakPassword,
)
from agents.models import OperatorRow
from core.errors import DomainError
from core.orm import stored_utc
from core.settings import AccountSettings

FAILED = "the name, the password or the code is wrong"
GHOSTS = 10_000


@dataclass(frozen=True)
class Person:
    id: str
    display_name: str
    role: Role
    second_factor: bool  # a TOTP app is set up
    must_enrol: bool  # the line requires one of this role and none is set up yet
    language: str | None = None  # the pages' language chosen; None: the browser's


@dataclass(frozen=True)
class Enrolment:
    secret: str  # shown once, to type into the app
    uri: str  # the same as an otpauth:// address (a QR code of it)


class Accounts:
    def __init__(
        self, engine: Engine, settings: AccountSettings, clock: Callable[[], datetime] | None = None
    ) -> None:
        self._engine, self._settings = engine, settings
        self._now = clock or (lambda: datetime.now(UTC))
        self._ghosts: dict[str, tuple[int, datetime | None]] = {}  # names no account has: failures

    def sign_in(self, account_id: str, password: str, code: str | None = None) -> Person:
        """The person, when the password (and the code, if they have a second factor) is
        right. SignInFailed never says which part was wrong, nor whether the name exists;
        AccountLocked while failures in a row keep the account waiting."""
        now = self._now()
        with Session(self._engine) as session, session.begin():  # a failure is counted: no raise inside
            row = session.get(OperatorRow, account_id)
            if row is None or not row.active:
                refusal: DomainError | None = self._ghost(account_id, password, now)
            else:
                refusal = self._check(row, password, code, now)
            person = self._person(row) if row is not None else None
        if refusal is not None or person is None:
            raise refusal or SignInFailed(FAILED)
        return person

    def _ghost(self, account_id: str, password: str, now: datetime) -> DomainError:
        """A name no active account has answers as an account would: the same check's work,
        and a lockout after the same failures, so neither the answer nor its time tells which
        names exist. Kept in memory (at most ``GHOSTS`` names)."""
        failures, locked = self._ghosts.get(account_id, (0, None))
        if locked is not None and locked > now:
            return self._locked(locked, now)
        passwords.check_absent(password)
        failures += 1
        self._ghosts[account_id] = (failures, self._lock_until(failures, now))
        if len(self._ghosts) > GHOSTS:
            self._ghosts.pop(next(iter(self._ghosts)))
        return SignInFailed(FAILED)

    @staticmethod
    def _locked(until: datetime, now: datetime) -> AccountLocked:
        wait = max(1, int((until - now).total_seconds() + 0.999))
        return AccountLocked(f"too many failed sign-ins: try again in {wait} s", wait)

    def _lock_until(self, failures: int, now: datetime) -> datetime | None:
        over = failures - self._settings.lockout_after
        if over < 0:
            return None
        s = self._settings
        return now + timedelta(seconds=min(s.lockout_max_seconds, s.lockout_seconds * 2 ** min(over, 20)))

    def _check(self, row: OperatorRow, password: str, code: str | None, now: datetime) -> DomainError | None:
        """What refuses this sign-in, or None; a failure is counted on the row."""
        locked = stored_utc(row.locked_until)
        if locked is not None and locked > now:
            return self._locked(locked, now)
        if not passwords.check(password, row.password_hash):
            self._failed(row, now)
            return SignInFailed(FAILED)
        if row.totp_confirmed and row.totp_secret:
            if not code:
                return SecondFactorRequired("enter the code your authenticator app shows")
            step = passwords.totp_step(row.totp_secret, code, now.timestamp(), row.totp_last_step)
            if step is None:
                self._failed(row, now)
                return SignInFailed(FAILED)
            row.totp_last_step = step
        row.failed_signins, row.locked_until = 0, None
        return None

    def _failed(self, row: OperatorRow, now: datetime) -> None:
        """One more failure in a row, counted in the database (another process may count too)."""
        session = Session.object_session(row)
        assert session is not None
        session.execute(
            update(OperatorRow)
            .where(OperatorRow.id == row.id)
            .values(failed_signins=OperatorRow.failed_signins + 1)
        )
        session.refresh(row, ["failed_signins"])
        row.locked_until = self._lock_until(row.failed_signins, now)

    def person(self, account_id: str) -> Person:
        with Session(self._engine) as session:
            row = session.get(OperatorRow, account_id)
            if row is None:
                raise UnknownOperator(f"account '{account_id}' does not exist")
            return self._person(row)

    def _person(self, row: OperatorRow) -> Person:
        role = Role(row.role)
        enrolled = bool(row.totp_confirmed and row.totp_secret)
        must = role.value in self._settings.totp_roles and not enrolled
        return Person(row.id, row.display_name, role, enrolled, must, row.language)

    def change_password(self, account_id: str, current: str, new: str) -> None:
        """A wrong current password counts as a failed sign-in (and locks alike): a stolen
        session cannot try passwords here either."""
        passwords.policy(new)
        if new == current:
            raise WeakPassword("the new password must differ from the current one")
        now = self._now()
        digest = passwords.hash_password(new)  # before the row is read: no transaction waits on it
        with Session(self._engine) as session, session.begin():  # a failure is counted: no raise inside
            row = self._row(session, account_id)
            locked = stored_utc(row.locked_until)
            refusal: DomainError | None = None
            if locked is not None and locked > now:
                refusal = self._locked(locked, now)
            elif not passwords.check(current, row.password_hash):
                self._failed(row, now)
                refusal = SignInFailed("the current password is wrong")
            else:
                row.password_hash, row.failed_signins, row.locked_until = digest, 0, None
        if refusal is not None:
            raise refusal

    def set_password(self, account_id: str, new: str) -> None:
        """An admin's tool (`hotline admin create`, the bootstrap): no current password asked."""
        passwords.policy(new)
        digest = passwords.hash_password(new)
        with Session(self._engine) as session, session.begin():
            row = self._row(session, account_id)
            row.password_hash, row.failed_signins, row.locked_until = digest, 0, None

    def set_language(self, account_id: str, language: str | None) -> Person:
        with Session(self._engine) as session, session.begin():
            row = self._row(session, account_id)
            row.language = language
            return self._person(row)

    def begin_enrolment(self, account_id: str) -> Enrolment:
        """A secret for the person's app, not in force until a code from it confirms it. Asked
        again before that, the same secret: a page that asks twice (two requests refused for
        want of it) must not show one secret while another is kept."""
        with Session(self._engine) as session, session.begin():
            row = self._row(session, account_id)
            if row.totp_confirmed:
                raise AlreadyEnrolled("a second factor is set up already; an admin can reset it")
            secret = row.totp_secret or passwords.new_totp_secret()
            row.totp_secret = secret
        return Enrolment(secret, passwords.otpauth_uri(account_id, secret, self._settings.totp_issuer))

    def confirm_enrolment(self, account_id: str, code: str) -> Person:
        now = self._now()
        with Session(self._engine) as session, session.begin():
            row = self._row(session, account_id)
            if row.totp_confirmed:
                raise AlreadyEnrolled("a second factor is set up already; an admin can reset it")
            if not row.totp_secret:
                raise SignInFailed("start setting up the second factor first")
            step = passwords.totp_step(row.totp_secret, code, now.timestamp())
            if step is None:
                raise SignInFailed("this code does not match: check the app's clock and try the next code")
            row.totp_confirmed, row.totp_last_step = True, step
            return self._person(row)

    def reset_second_factor(self, account_id: str) -> None:
        """An admin's answer to a lost phone: the person enrols again at their next sign-in."""
        with Session(self._engine) as session, session.begin():
            row = self._row(session, account_id)
            row.totp_secret, row.totp_confirmed, row.totp_last_step = None, False, -1

    def admins(self, active_only: bool = True) -> int:
        """Admin accounts (active ones, or every one ever made)."""
        query = select(func.count()).select_from(OperatorRow).where(OperatorRow.role == Role.ADMIN.value)
        if active_only:
            query = query.where(OperatorRow.active.is_(True))
        with Session(self._engine) as session:
            return int(session.scalar(query) or 0)

    @staticmethod
    def _row(session: Session, account_id: str) -> OperatorRow:
        row = session.get(OperatorRow, account_id)
        if row is None:
            raise UnknownOperator(f"account '{account_id}' does not exist")
        return row
