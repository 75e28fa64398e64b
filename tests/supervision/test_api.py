"""Supervision over HTTP through the composition root's app: the contract of POST (the answer's
fields, 201), who may start, switch and end a session, who sees which sessions, and the
operator's notice. Asterisk is a fake node here (tests/e2e/test_supervision.py has the real one)."""

from __future__ import annotations

import asyncio
from typing import Any

from agents.directory import Role
from supervision.session import Mode
from tests.hotline.test_problems import Api, _in_call, api, sounds  # noqa: F401  (fixtures)
from tests.supervision.test_service import FakeNode

URL = "/api/supervision"


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _people(api: Api) -> dict[str, dict[str, str]]:  # noqa: F811
    directory = api.hotline.directory
    made = {
        "senior": directory.create("op-senior", "Senior", Role.SENIOR, {}).api_token,
        "other": directory.create("op-other", "Other senior", Role.SENIOR, {}).api_token,
    }
    tokens = {**api.tokens, **made}
    return {
        "lead": _bearer(tokens["op-lead"]),
        "desk": _bearer(tokens["op-desk"]),
        "senior": _bearer(tokens["senior"]),
        "other": _bearer(tokens["other"]),
    }


async def test_a_senior_starts_a_session_and_the_answer_keeps_the_contract(api: Api) -> None:  # noqa: F811
    who = _people(api)
    node = FakeNode()
    api.hotline.supervision._nodes = {"local": node}  # Asterisk accepts every action
    api.hotline.control.on_event(_in_call())
    started = await api.client.post(
        URL, headers=who["senior"], json={"operator": "op-desk", "mode": "listen"}
    )
    assert started.status_code == 201, started.text
    body: dict[str, Any] = started.json()
    assert set(body) >= {"id", "operator", "supervisor", "mode", "state", "started_at", "ended_at", "modes"}
    assert (body["operator"], body["supervisor"], body["mode"], body["state"]) == (
        "op-desk",
        "op-senior",
        "listen",
        "ringing",
    )
    assert body["ended_at"] is None and [m["mode"] for m in body["modes"]] == ["listen"]
    assert (
        node.sent[0]["Channel"] == "PJSIP/op-senior"
        and node.sent[0]["CallerID"] == '"Supervision" <supervision>'
    )
    one = f"{URL}/{body['id']}"
    other = await api.client.patch(one, headers=who["other"], json={"mode": "barge"})
    assert (other.status_code, other.json()["error_id"]) == (403, "forbidden")  # not their session
    assert (await api.client.get(one, headers=who["other"])).status_code == 403
    led = await api.client.patch(one, headers=who["lead"], json={"mode": "whisper"})
    assert led.status_code == 200 and [(m["mode"], m["by"]) for m in led.json()["modes"]] == [
        ("listen", "op-senior"),
        ("whisper", "op-lead"),
    ]
    await api.hotline.supervision.spying(body["id"], "4", "PJSIP/op-senior-00000003")  # answered
    await asyncio.sleep(0.01)  # switched while it rang: the answered call is sent to whisper
    assert (node.sent[-1]["Action"], node.sent[-1]["Exten"]) == ("Redirect", "5")
    desk = (await api.client.get(URL, headers=who["desk"])).json()
    assert desk["notice"]["mode"] == "whisper" and desk["sessions"] == []  # not over: not listed yet
    ended = await api.client.delete(one, headers=who["senior"])
    assert ended.status_code == 200 and ended.json()["ended_how"] == "ended"
    assert node.sent[-1] == {"Action": "Hangup", "Channel": "PJSIP/op-senior-00000003", "Cause": "16"}
    desk = (await api.client.get(URL, headers=who["desk"])).json()
    assert desk["notice"] is None and [s["supervisor"] for s in desk["sessions"]] == ["op-senior"]
    assert (await api.client.get(one, headers=who["desk"])).status_code == 200  # about them, over


async def test_who_sees_which_sessions(api: Api) -> None:  # noqa: F811
    who = _people(api)
    api.hotline.control.on_event(_in_call())
    supervision = api.hotline.supervision
    first = await supervision.start_here("op-senior", "op-desk", Mode.LISTEN, "u-1")
    await supervision.hung_up(first.id)
    second = await supervision.start_here("op-other", "op-desk", Mode.BARGE, "u-2")
    lead = (await api.client.get(URL, headers=who["lead"])).json()["sessions"]
    assert {s["id"] for s in lead} == {first.id, second.id}
    only = await api.client.get(URL, headers=who["lead"], params={"supervisor": "op-other"})
    assert [s["id"] for s in only.json()["sessions"]] == [second.id]
    mine = (await api.client.get(URL, headers=who["senior"])).json()["sessions"]
    assert [s["id"] for s in mine] == [first.id]  # a senior: their own, not another senior's
    theirs = (await api.client.get(URL, headers=who["other"])).json()["sessions"]
    assert [s["id"] for s in theirs] == [second.id] and theirs[0]["state"] == "ringing"
    desk = (await api.client.get(URL, headers=who["desk"])).json()["sessions"]
    assert [s["id"] for s in desk] == [first.id]  # the operator: only sessions that ended


async def test_the_notice_is_off_when_the_line_turns_it_off(api: Api) -> None:  # noqa: F811
    who = _people(api)
    api.hotline.control.on_event(_in_call())
    supervision = api.hotline.supervision
    session = await supervision.start_here("op-senior", "op-desk", Mode.LISTEN, "u-1")
    await supervision.spying(session.id, "4", "PJSIP/op-senior-00000003")
    assert (await api.client.get(URL, headers=who["desk"])).json()["notice"]["mode"] == "listen"
    supervision.notify_operator = False  # supervision.notify_operator: false in hotline.yaml
    assert (await api.client.get(URL, headers=who["desk"])).json()["notice"] is None
