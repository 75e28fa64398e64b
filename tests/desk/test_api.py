"""``GET /api/operators/{id}/call`` through the composition root's app: the IVR's report and the
queue's events reach the desk as in the service, and who may see whose call."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.types import CallRef
from ivr.engine import Route, RouteKind, RouteReason
from telephony.events import AgentCalled, AgentConnect, QueueCallerJoin
from tests.hotline.test_problems import ADMIN_TOKEN, Api, api, sounds  # noqa: F401  (fixtures)
from tests.problems import problem_of

CALL = CallRef("local", "1765098000.10")


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_an_operator_sees_the_call_offered_to_them_then_talking(api: Api) -> None:  # noqa: F811
    hotline, desk = api.hotline, api.tokens["op-desk"]
    began = datetime.now(UTC) - timedelta(seconds=30)
    version = str(hotline.ivr_service.engine().version)
    hotline.assembler.ivr_started(CALL, began, "ru", version, repeat_count=2)
    route = Route(
        RouteKind.QUEUE, RouteReason.CHOSEN, "ru", "1>1", ("language", "root"), "crisis", "crisis", 10
    )
    hotline.assembler.ivr_routed(CALL, began + timedelta(seconds=10), route)
    ids = (CALL.node, began + timedelta(seconds=10), CALL.call_id, CALL.call_id)
    hotline.fanout(QueueCallerJoin(*ids, "crisis", 1, 1))
    hotline.fanout(AgentCalled(*ids[:1], datetime.now(UTC), *ids[2:], "crisis", "op-desk"))

    offered = await api.client.get(
        "/api/operators/op-desk/call", params={"lang": "en"}, headers=_bearer(desk)
    )
    assert offered.status_code == 200, offered.text
    body = offered.json()
    assert body["state"] == "offered"
    call = body["call"]
    assert (call["topic"], call["language"], call["priority"], call["repeat_count"], call["path"]) == (
        "crisis",
        "ru",
        10,
        2,
        "1>1",
    )
    assert call["topic_name"] == hotline.ivr_service.engine().document.topic("crisis").names["en"]  # type: ignore[union-attr]
    assert call["waited_seconds"] >= 19 and call["talking_seconds"] is None

    hotline.fanout(
        AgentConnect(CALL.node, datetime.now(UTC), CALL.call_id, CALL.call_id, "crisis", "op-desk", 20, 1)
    )
    lead = await api.client.get("/api/operators/op-desk/call", headers=_bearer(api.tokens["op-lead"]))
    assert lead.json()["state"] == "talking" and lead.json()["call"]["talking_seconds"] >= 0


async def test_an_operator_sees_only_their_own_call_and_an_unknown_operator_is_404(api: Api) -> None:  # noqa: F811
    desk = api.tokens["op-desk"]
    own = await api.client.get("/api/operators/op-desk/call", headers=_bearer(desk))
    assert (own.status_code, own.json()["state"], own.json()["call"]) == (200, "none", None)
    other = await api.client.get("/api/operators/op-lead/call", headers=_bearer(desk))
    assert (other.status_code, problem_of(other)["error_id"]) == (403, "forbidden")
    unknown = await api.client.get("/api/operators/op-nobody/call", headers=_bearer(ADMIN_TOKEN))
    assert (unknown.status_code, problem_of(unknown)["error_id"]) == (404, "unknown_operator")
    anonymous = await api.client.get("/api/operators/op-desk/call")
    assert anonymous.status_code == 401
