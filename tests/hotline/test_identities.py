"""Who did what comes from the token, not the body; names hold no control characters; the
pause reason ``recovery`` is the burnout guard's own (issue 14, item 8)."""

from __future__ import annotations

from typing import Any

import pytest

from agents.auth import Principal
from agents.directory import Role
from ivr.api import _author
from tests.hotline.test_problems import ADMIN_TOKEN, OPERATOR, Api, _in_queue, api, sounds  # noqa: F401

NAMES = ["Anna\nroot", "Anna\r", "tab\there", "\x1b[31mred", "nul\x00", "\u202eanna", "line\u2028sep", "\x85"]


def test_an_operators_identity_is_its_pseudonym() -> None:
    assert _author(Principal("op-lead", Role.SHIFT_LEAD, operator=True)) == "op-lead"
    assert _author(Principal("admin", Role.ADMIN, operator=False)) == "admin"


@pytest.mark.parametrize("name", NAMES)
async def test_a_display_name_with_a_control_character_is_a_422_naming_the_field(
    api: Api,  # noqa: F811
    name: str,
) -> None:
    made = await api.send("post", "/api/operators", json={"id": "op-new", "display_name": name})
    changed = await api.send("patch", OPERATOR, path="op-desk", json={"display_name": name})
    for answer, where in ((made, "body.display_name"), (changed, "body.display_name")):
        problem: dict[str, Any] = answer.json()
        assert (answer.status_code, problem["error_id"]) == (422, "invalid_request")
        [detail] = problem["details"]
        assert detail["where"] == where and "control characters" in detail["problem"]
    assert api.hotline.directory.get("op-desk").display_name == "Desk"


async def test_a_display_name_in_any_script_is_kept(api: Api) -> None:  # noqa: F811
    for n, name in enumerate(["Анна", "Zoë O'Neil", "أحمد", "👩‍⚕️ Sam", "Ли-Мэй"]):
        made = await api.send("post", "/api/operators", json={"id": f"op-n{n}", "display_name": name})
        assert made.status_code == 201 and made.json()["operator"]["display_name"] == name


@pytest.mark.parametrize("who", ["op-desk", "op-lead", "admin"])
async def test_nobody_but_the_guard_starts_a_recovery_pause(api: Api, who: str) -> None:  # noqa: F811
    api.hotline.operators.on_event(_in_queue())  # op-desk logged in
    token = api.tokens.get(who, ADMIN_TOKEN)
    answer = await api.send(
        "post", f"{OPERATOR}/pause", token=token, path="op-desk", json={"reason": "recovery"}
    )
    problem = answer.json()
    assert (answer.status_code, problem["error_id"]) == (422, "pause_reason_reserved")
    assert problem["details"] == [{"where": "body.reason", "problem": "reserved"}]
    assert "burnout guard" in problem["detail"]
