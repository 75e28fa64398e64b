"""Where a role signs in with a second factor, that person's own API token (a password's equal)
is not taken: it would go round the second factor. Machine tokens still are."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from starlette.requests import Request

from agents.auth import Authenticator, Unauthorized
from agents.directory import OperatorDirectory, Role
from agents.sessions import Sessions
from agents.tokens import Tokens
from core.settings import AccountSettings


def _request(token: str) -> Request:
    return Request(
        {
            "type": "http",
            "method": "GET",
            "path": "/api/me",
            "headers": [(b"authorization", f"Bearer {token}".encode())],
        }
    )


def test_a_second_factor_roles_own_token_is_refused_and_a_machine_token_taken(database: Engine) -> None:
    directory = OperatorDirectory(database)
    admin = directory.create("root-anna", "Anna", Role.ADMIN, {}).api_token
    operator = directory.create("op-boris", "Boris", Role.OPERATOR, {}).api_token
    machine, _ = Tokens(database).create("export", ["records:read"], 1, "root-anna")
    auth = Authenticator(
        directory, Sessions(database, AccountSettings()), Tokens(database), {"admin", "shift_lead"}
    )
    with pytest.raises(Unauthorized, match="second factor"):
        auth.principal(_request(admin))
    assert auth.principal(_request(operator)).name == "op-boris"
    assert auth.principal(_request(machine)).kind == "token"
    lenient = Authenticator(directory, Sessions(database, AccountSettings()), Tokens(database))
    assert lenient.principal(_request(admin)).role is Role.ADMIN  # no second factor required: taken
