"""`hotline admin` and the first admin: no default credential; the first admin from the bootstrap
secret, or from the shell; a locked-out only admin recovered from the shell."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from agents.accounts import Accounts
from agents.directory import OperatorDirectory, Role
from agents.exceptions import AccountLocked, SignInFailed
from agents.tokens import Tokens
from core.audit import AuditStore, verify
from core.db import migrate
from core.settings import AccountSettings
from hotline.accounts_wiring import first_admin
from hotline.cli import main
from tests.conftest import make_settings

NODE = {"name": "local", "ami_secret": "s" * 24}
PRODUCTION = {"environment": "production", "asterisk": [NODE], "agi": {"secret": "g" * 24}}


def _config(tmp_path: Path, **accounts: object) -> Path:
    var = tmp_path / "var"
    lines = [f"var_dir: {var}", f"database_url: sqlite:///{var}/hotline.sqlite3"]
    if accounts:
        lines.append("accounts:")
        lines += [f"  {k}: {v}" for k, v in accounts.items()]
    path = tmp_path / "hotline.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_admin_create_prints_a_one_time_password_that_signs_in(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    assert main(["--config", str(config), "admin", "create", "root-anna", "--display-name", "Anna"]) == 0
    password = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    engine = create_engine(f"sqlite:///{tmp_path}/var/hotline.sqlite3")
    person = Accounts(engine, AccountSettings()).sign_in("root-anna", password)
    assert (person.role, person.display_name) == (Role.ADMIN, "Anna")
    assert main(["--config", str(config), "admin", "create", "root-anna"]) == 1  # exists: said, not replaced
    assert "exists already" in capsys.readouterr().err


def test_admin_create_takes_a_password_file_and_refuses_a_weak_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    weak, strong = tmp_path / "weak", tmp_path / "strong"
    weak.write_text("short\n", encoding="utf-8")
    strong.write_text("a long enough passphrase\n", encoding="utf-8")
    assert main(["--config", str(config), "admin", "create", "root-olga", "--password-file", str(weak)]) == 1
    assert "at least 10" in capsys.readouterr().err
    assert (
        main(["--config", str(config), "admin", "create", "root-olga", "--password-file", str(strong)]) == 0
    )
    assert "a long enough passphrase" not in capsys.readouterr().out  # never echoed
    engine = create_engine(f"sqlite:///{tmp_path}/var/hotline.sqlite3")
    assert (
        Accounts(engine, AccountSettings()).sign_in("root-olga", "a long enough passphrase").id == "root-olga"
    )


def test_a_locked_out_admin_is_recovered_and_a_machine_token_made_from_the_shell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    assert main(["--config", str(config), "admin", "create", "root-anna"]) == 0
    capsys.readouterr()
    engine = create_engine(f"sqlite:///{tmp_path}/var/hotline.sqlite3")
    accounts = Accounts(engine, AccountSettings(lockout_after=1))
    with pytest.raises(SignInFailed):
        accounts.sign_in("root-anna", "not the password")
    with pytest.raises(AccountLocked):
        accounts.sign_in("root-anna", "not the password either")
    assert main(["--config", str(config), "admin", "reset-password", "root-anna"]) == 0
    fresh = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    assert accounts.sign_in("root-anna", fresh).id == "root-anna"
    assert (
        main(["--config", str(config), "admin", "token", "nightly", "--scope", "records:read", "--days", "7"])
        == 0
    )
    token = capsys.readouterr().out.strip()
    found = Tokens(engine).find(token)
    assert found is not None and found.scopes == ("records:read",) and found.created_by == "shell"
    assert main(["--config", str(config), "admin", "reset-password", "nobody"]) == 1


def test_the_first_admin_comes_from_the_bootstrap_secret_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = tmp_path / "admin_password"
    secret.write_text("a long enough passphrase\n", encoding="utf-8")
    settings = make_settings(tmp_path, **PRODUCTION, accounts={"bootstrap_password_file": str(secret)})
    (tmp_path / "var").mkdir(exist_ok=True)
    engine = create_engine(settings.database_url)
    migrate(engine)
    directory, accounts = OperatorDirectory(engine), Accounts(engine, settings.accounts)
    assert first_admin(settings, directory, accounts) == "admin"
    assert accounts.sign_in("admin", "a long enough passphrase").role is Role.ADMIN
    secret.write_text("another long passphrase\n", encoding="utf-8")
    assert first_admin(settings, directory, accounts) is None  # an admin exists: the file is not read again
    assert accounts.sign_in("admin", "a long enough passphrase").id == "admin"


def test_production_without_a_bootstrap_secret_has_no_admin_and_says_how_to_make_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = make_settings(tmp_path, **PRODUCTION)
    (tmp_path / "var").mkdir(exist_ok=True)
    engine = create_engine(settings.database_url)
    migrate(engine)
    with caplog.at_level(logging.WARNING, logger="hotline.accounts"):
        assert first_admin(settings, OperatorDirectory(engine), Accounts(engine, settings.accounts)) is None
    assert "hotline admin create" in caplog.text
    assert OperatorDirectory(engine).all() == []


def test_development_makes_its_first_admin_from_a_password_made_once(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    (tmp_path / "var").mkdir(exist_ok=True)
    engine = create_engine(settings.database_url)
    migrate(engine)
    accounts = Accounts(engine, settings.accounts)
    assert first_admin(settings, OperatorDirectory(engine), accounts) == "admin"
    written = (tmp_path / "var" / "secrets" / "admin-password").read_text(encoding="utf-8").strip()
    assert (
        len(written) >= 24 and (tmp_path / "var" / "secrets" / "admin-password").stat().st_mode & 0o077 == 0
    )
    assert accounts.sign_in("admin", written).role is Role.ADMIN


def test_the_shells_changes_are_audited_and_a_reset_leaves_the_softphone_alone(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(tmp_path)
    assert main(["--config", str(config), "admin", "create", "root-anna"]) == 0
    engine = create_engine(f"sqlite:///{tmp_path}/var/hotline.sqlite3")
    sip_before = OperatorDirectory(engine).get("root-anna").sip_md5
    assert main(["--config", str(config), "admin", "reset-password", "root-anna"]) == 0
    assert main(["--config", str(config), "admin", "reset-second-factor", "root-anna"]) == 0
    assert main(["--config", str(config), "admin", "token", "nightly", "--scope", "records:read"]) == 0
    printed = capsys.readouterr().out
    assert OperatorDirectory(engine).get("root-anna").sip_md5 == sip_before  # the phone still registers
    entries = AuditStore(engine).entries()
    assert [e["action"] for e in entries] == [
        "shell admin create",
        "shell admin reset-password",
        "shell admin reset-second-factor",
        "shell admin token",
    ]
    assert all(e["actor"].startswith("shell:") and e["address"] == "shell" for e in entries)
    assert entries[1]["target"] == "operator_id=root-anna"
    token = printed.strip().splitlines()[-1]
    assert token.startswith("hlt_") and token not in json.dumps(entries)
    assert verify(AuditStore(engine)).ok


def test_the_bootstrap_secret_is_not_read_again_once_an_admin_was_made(tmp_path: Path) -> None:
    secret = tmp_path / "admin_password"
    secret.write_text("a long enough passphrase\n", encoding="utf-8")
    settings = make_settings(tmp_path, **PRODUCTION, accounts={"bootstrap_password_file": str(secret)})
    (tmp_path / "var").mkdir(exist_ok=True)
    engine = create_engine(settings.database_url)
    migrate(engine)
    directory, accounts = OperatorDirectory(engine), Accounts(engine, settings.accounts)
    directory.create("root-olga", "Olga", Role.ADMIN, {})
    directory.update("root-olga", active=False)  # every admin gone (say, by the database's hand)
    assert first_admin(settings, directory, accounts) is None
    assert [o.id for o in directory.all()] == ["root-olga"]
