"""`hotline admin`: the accounts an admin manages from the server's shell, where no page can
help yet: the first admin, a forgotten password or lost phone of the only admin, a token for a
machine.

    hotline admin create ID [--display-name NAME] [--password-file FILE]
    hotline admin reset-password ID   (the sign-in password only; the softphone keeps its own)
    hotline admin reset-second-factor ID
    hotline admin token NAME --scope records:read [--scope ...] [--days 90]

A password is printed once (or read from a file); nothing here has a default.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from agents import passwords
from agents.accounts import Accounts
from agents.directory import OperatorDirectory, Role
from agents.exceptions import OperatorExists, UnknownOperator, WeakPassword
from agents.sessions import Sessions
from agents.tokens import SCOPES, Tokens
from core.audit import AuditEntry, AuditStore
from core.db import make_engine, migrate
from core.settings import Settings


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    admin = sub.add_parser("admin", help="accounts from the shell: the first admin, resets, machine tokens")
    actions = admin.add_subparsers(dest="admin_action", required=True)
    create = actions.add_parser("create", help="make an admin account (the first one, or another)")
    create.add_argument("id", help="a pseudonym: lowercase letters, digits, '-' or '_'")
    create.add_argument("--display-name", default=None, help="shown on pages (default: the id)")
    create.add_argument(
        "--password-file", type=Path, default=None, help="read the password here (else one is printed)"
    )
    for action, what in (
        ("reset-password", "a new one-time password; the lockout lifted, the person's sessions ended"),
        ("reset-second-factor", "forget the authenticator app (a lost phone); set up again at next sign-in"),
    ):
        actions.add_parser(action, help=what).add_argument("id")
    token = actions.add_parser("token", help="a machine's API token, printed once")
    token.add_argument("name")
    token.add_argument("--scope", action="append", required=True, choices=SCOPES, help="repeat for each")
    token.add_argument("--days", type=int, default=90, help="until it expires (90; 0: never)")


def run(settings: Settings, args: argparse.Namespace) -> int:
    engine = make_engine(settings.database_url)
    migrate(engine)
    directory, accounts = OperatorDirectory(engine), Accounts(engine, settings.accounts)
    audit = AuditStore(engine)
    try:
        if args.admin_action == "create":
            code = _create(directory, accounts, args)
            _audit(audit, "shell admin create", args.id)
            return code
        if args.admin_action == "reset-password":
            password = passwords.new_password()  # the sign-in password only: the softphone keeps its own
            accounts.set_password(args.id, password)
            ended = Sessions(engine, settings.accounts).end_all(args.id)
            _audit(audit, "shell admin reset-password", args.id, sessions_ended=ended)
            print(f"one-time password for {args.id} (change it after signing in): {password}")
            return 0
        if args.admin_action == "reset-second-factor":
            accounts.reset_second_factor(args.id)
            _audit(audit, "shell admin reset-second-factor", args.id)
            print(f"{args.id} sets up an authenticator app again at the next sign-in")
            return 0
        token, about = Tokens(engine).create(args.name, args.scope, args.days or None, "shell")
        _audit(audit, "shell admin token", "", token=about.id, name=about.name, scopes=list(about.scopes))
        print(token)
        print(
            f"token {about.id} ({', '.join(about.scopes)}), expires {about.expires_at or 'never'}",
            file=sys.stderr,
        )
        return 0
    except (OperatorExists, UnknownOperator, WeakPassword, ValueError) as exc:
        print(f"hotline admin: {exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()


def _audit(store: AuditStore, action: str, account: str, **details: object) -> None:
    """The shell's changes are in the audit log too, by the system user who ran them."""
    target = f"operator_id={account}" if account else ""
    store.save_many([AuditEntry(f"shell:{getpass.getuser()}"[:80], "", "shell", action, target, 0, details)])


def _create(directory: OperatorDirectory, accounts: Accounts, args: argparse.Namespace) -> int:
    password = None
    if args.password_file is not None:
        password = args.password_file.read_text(encoding="utf-8").strip()
        if not password:
            raise WeakPassword(f"{args.password_file} is empty")
        passwords.policy(password)  # before the account exists
    credentials = directory.create(args.id, args.display_name or args.id, Role.ADMIN, {})
    if password is not None:
        accounts.set_password(args.id, password)
        print(f"admin {args.id} made; sign in with the password from {args.password_file}")
    else:
        print(f"admin {args.id} made; one-time password (change it after signing in): {credentials.password}")
    return 0
