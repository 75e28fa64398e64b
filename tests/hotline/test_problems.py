"""Every error answer of the API is RFC 9457 problem details, and the OpenAPI document declares
it. The app is the one the composition root builds (hotline/app.py), walked operation by
operation: without a token, with an operator's token, with invalid requests, with well-formed
ones naming unknown ids, and with requests that provoke each room's errors.

Every answer goes through ``Api.send``: an error status the operation does not declare fails
the test, and so does a body that is not a problem. The other way round, every error_id a room
declares on a route must be provoked here (or be listed in ``CANNOT_PROVOKE`` with why), so
the declarations stay what the routes really raise.

No Asterisk runs: the node "local" never logs in to AMI, so what must reach Asterisk fails as
it would with the node down (presence's queue actions, an IVR publish); an operator's account
change is kept and waits for the node (no error: the answer says it is pending).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from agents import passwords
from agents.debriefs import DebriefStore
from agents.directory import Role
from core.db import migrate
from hotline.app import Hotline
from hotline.openapi import declared_errors
from ivr.codec import to_data
from ivr.document import IvrDocument
from ivr.prompts import PromptStudio
from ivr.service import IvrService
from metrics.records.record import Outcome
from supervision.session import Mode
from telephony.events import AgentConnect, QueueMemberAdded, QueueMemberPause
from tests.accounts import make_admin
from tests.conftest import make_settings, seed_document
from tests.ivr.test_api import SHELTER_TOPIC
from tests.metrics.records.summary_forms import desk_document
from tests.metrics.records.test_retention import call
from tests.problems import PROBLEM, problem_of

Operation = tuple[str, str]  # the method as the document spells it (lower case), the path template
ADMIN_TOKEN = "admin-t0ken"
PROBLEM_CONTENT = {PROBLEM: {"schema": {"$ref": "#/components/schemas/Problem"}}}
PUBLIC_API: set[Operation] = {("post", "/api/session"), ("post", "/api/kiosks/pair")}  # signing in
OPERATOR_DESK: set[Operation] = {
    ("get", "/api/me"),
    ("get", "/api/me/softphone"),
    ("get", "/api/referrals"),
    ("get", "/api/supervision"),  # sessions about oneself once ended, and the live notice
}
# Whose call it is, is decided per call (an unknown one is a 404 to everyone): the 403 of another
# operator's call is in tests/metrics/records/test_summary_api.py and the scenario below.
SUMMARY = "/api/calls/{record_id}/summary"
OPERATORS_CALLS: set[Operation] = {("get", SUMMARY), ("put", SUMMARY)}
ENDLESS: set[Operation] = {("get", "/api/wallboard/stream")}  # Server-Sent Events: only refusals probed
UNKNOWN_ID_IS_NO_ERROR: dict[Operation, str] = {}
CANNOT_PROVOKE: dict[tuple[str, str, str], str] = {
    ("post", "/api/ivr/publish", "ivr_publish_conflict"): "two processes publishing at the same moment",
    # A forecast here ends in milliseconds; tests/planning/test_api.py holds them to fill the pool.
    ("post", "/api/planning/forecast", "planning_busy"): "eight forecasts running or waiting at once",
    ("get", "/api/planning/now", "planning_busy"): "eight forecasts running or waiting at once",
    # ivr/validation.py refuses a text field where free text is off; the check stays for a
    # document published before that rule (tests/metrics/records/test_summary.py provokes it).
    ("put", "/api/calls/{record_id}/summary", "summary_text_not_allowed"): "a text field with free text off",
}
SCENARIO_TAGS = {"operators", "ivr", "calls", "reports", "planning"}  # the rooms' scenarios below
SCENARIO_TAGS |= {"supervision"}  # issue 17, items 1 and 2
SCENARIO_TAGS |= {"debriefs", "wallboard"}  # issue 17, items 3 and 4
SCENARIO_TAGS |= {"accounts"}  # issue 18: signing in, tokens, kiosks
ROSTER = {
    "start": "2026-11-23",
    "history_weeks": 1,
    "interval_minutes": 60,
    "templates": [{"name": "day", "start": "08:00", "minutes": 480}],
    "operators": [{"id": "op-1"}],
    "time_limit_seconds": 5,
}
WELL_FORMED: dict[Operation, dict[str, Any]] = {  # every operation with a request body
    ("post", "/api/operators"): {"json": {"id": "op-walk", "display_name": "Walk"}},
    ("patch", "/api/operators/{operator_id}"): {"json": {}},
    ("post", "/api/operators/{operator_id}/pause"): {"json": {"reason": "break"}},
    ("post", "/api/operators/{operator_id}/transfer"): {"json": {"mode": "blind", "to": {"queue": "crisis"}}},
    ("post", "/api/operators/{operator_id}/conference"): {"json": {"referral": "shelter"}},
    ("put", "/api/ivr/draft"): {"json": to_data(seed_document())},
    ("put", "/api/ivr/draft/{section}/{item_id}"): {"json": {}},
    ("post", "/api/ivr/publish"): {"json": {}},
    ("post", "/api/ivr/rollback"): {"json": {"version": 1}},
    ("post", "/api/ivr/simulate"): {"json": {"keys": ["1"]}},
    ("post", "/api/planning/forecast"): {"json": {}},
    ("post", "/api/planning/roster"): {"json": ROSTER},
    ("put", SUMMARY): {"json": {"values": {}}},
    ("post", "/api/supervision"): {"json": {"operator": "op-desk", "mode": "listen"}},
    ("patch", "/api/supervision/{session_id}"): {"json": {"mode": "whisper"}},
    ("post", "/api/operators/{operator_id}/debriefs"): {"json": {}},
    ("post", "/api/debriefs/{debrief_id}/close"): {"json": {}},
    ("post", "/api/session"): {"json": {"id": "nobody", "password": "not the password"}},
    ("put", "/api/session/password"): {"json": {"current": "not the password", "new": "a new passphrase"}},
    ("put", "/api/session/second-factor"): {"json": {"code": "123456"}},
    ("put", "/api/session/language"): {"json": {"language": "pl"}},
    ("post", "/api/tokens"): {"json": {"name": "walk", "scopes": ["records:read"]}},
    ("post", "/api/kiosks"): {"json": {"label": "hall TV"}},
    ("post", "/api/kiosks/pair"): {"json": {"code": "not a code"}},
    ("post", "/api/wallboard/operators/{operator_id}/pause"): {"json": {"reason": "break"}},
}


@dataclass
class Api:
    """The composition root's app, its OpenAPI document, and what each operation answered."""

    client: httpx.AsyncClient
    hotline: Hotline
    tokens: dict[str, str]
    document: dict[str, Any] = field(init=False)
    seen: dict[Operation, set[str]] = field(default_factory=dict)  # error_ids answered

    def __post_init__(self) -> None:
        self.document = self.hotline.app.openapi()

    def operations(self) -> Iterator[tuple[Operation, dict[str, Any]]]:
        for template, item in self.document["paths"].items():
            for method, operation in item.items():
                yield (method, template), operation

    async def send(
        self,
        method: str,
        template: str,
        token: str | None = ADMIN_TOKEN,
        path: str | dict[str, str] = "nobody",
        **request: Any,
    ) -> httpx.Response:
        """The answer, once checked: an error is declared by its operation and is a problem."""
        operation = self.document["paths"][template][method]
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        headers |= request.pop("headers", {})
        url = template.format(**(path if isinstance(path, dict) else _path_values(operation, path)))
        response = await self.client.request(method, url, headers=headers, **request)
        if response.status_code >= 400:
            problem = problem_of(response)
            declared = sorted(declared_errors(operation))
            assert response.status_code in declared, (
                f"{method.upper()} {url} answered {response.status_code} {problem['error_id']}:"
                f" not declared (declared: {declared})"
            )
            self.seen.setdefault((method, template), set()).add(problem["error_id"])
        return response

    async def expect(self, status: int, error_id: str, method: str, template: str, **request: Any) -> None:
        response = await self.send(method, template, **request)
        assert (response.status_code, response.json().get("error_id")) == (status, error_id), response.text

    def unprovoked(self, tag: str) -> list[str]:
        """The error_ids the routes of this tag declare (``problems(...)``) that none answered."""
        missing = []
        for (method, template), operation in self.operations():
            if tag not in operation.get("tags", ()):
                continue
            for code, response in operation["responses"].items():
                for error_id in _room_errors(response["description"]):
                    seen = error_id in self.seen.get((method, template), set())
                    if not seen and (method, template, error_id) not in CANNOT_PROVOKE:
                        missing.append(f"{method.upper()} {template} {code} {error_id}")
        return missing


def _path_params(operation: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in operation.get("parameters", []) if p["in"] == "path"]


def _path_values(operation: dict[str, Any], value: str) -> dict[str, str]:
    """Every path parameter ``value``; one that takes a fixed set of values, the first."""
    return {p["name"]: p["schema"].get("enum", [value])[0] for p in _path_params(operation)}


def _room_errors(description: str) -> list[str]:
    found = re.match(r"error_id: ([\w, ]+)", description)
    return found.group(1).split(", ") if found else []


def _typed(schema: dict[str, Any]) -> bool:
    """Whether a parameter of this schema refuses the text "not-valid" (a number, an enum, a date)."""
    if "anyOf" in schema:
        return any(_typed(s) for s in schema["anyOf"])
    return (
        "$ref" in schema
        or "enum" in schema
        or schema.get("type") in ("integer", "number", "boolean")
        or schema.get("format") in ("date", "date-time")
    )


def _invalid(operation: dict[str, Any]) -> dict[str, Any] | None:
    """A request this operation must refuse as invalid_request; None if it has no such input."""
    if "requestBody" in operation:
        return {"json": ["not", "an", "object"]}
    for param in operation.get("parameters", []):
        if _typed(param["schema"]):
            if param["in"] == "path":
                return {"path": {p["name"]: "not-valid" for p in _path_params(operation)}}
            return {"params": {param["name"]: "not-valid"}}
    return None


@pytest.fixture(scope="module")
def sounds(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sounds")  # prompts are synthesised once for the module


async def _nothing(_: IvrDocument) -> None:
    return None


@pytest.fixture
async def api(tmp_path: Path, sounds: Path) -> AsyncIterator[Api]:
    node = {"name": "local", "ami_secret": "s" * 24, "config_dir": str(tmp_path / "etc"), "layout": "sandbox"}
    settings = make_settings(tmp_path, prompts_dir=str(sounds), asterisk=[node])
    hotline = Hotline(settings)
    migrate(hotline.engine)
    make_admin(hotline.engine, ADMIN_TOKEN)
    # A fresh install publishes the seed; with no Asterisk here, another process does it
    # without reloading one, and the service follows the live version as it always does.
    await _publisher(hotline).start(settings.ivr_seed)
    await hotline.ivr_service.start(settings.ivr_seed)
    tokens = {
        "op-desk": hotline.directory.create("op-desk", "Desk", Role.OPERATOR, {"crisis": 2}).api_token,
        "op-lead": hotline.directory.create("op-lead", "Lead", Role.SHIFT_LEAD, {}).api_token,
    }
    transport = httpx.ASGITransport(app=hotline.app, raise_app_exceptions=False)  # a 500 is an answer
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline", timeout=60) as client:
        yield Api(client, hotline, tokens)
    hotline.engine.dispose()


def _publisher(hotline: Hotline) -> IvrService:
    """Another process on the same database that publishes without reloading Asterisk."""
    settings = hotline.settings
    return IvrService(
        hotline.ivr_store, PromptStudio(settings.prompts_dir), _nothing, settings.asterisk_prompts_dir
    )


# -- the document ---------------------------------------------------------------------------------
async def test_every_declared_error_is_a_problem_in_the_document(api: Api) -> None:
    components = api.document["components"]
    assert components["schemas"]["Problem"]["required"] == ["type", "title", "status", "detail", "error_id"]
    assert "HTTPValidationError" not in components["schemas"]
    schemes = components["securitySchemes"]
    [bearer] = [n for n, s in schemes.items() if (s["type"], s.get("scheme")) == ("http", "bearer")]
    [cookie] = [n for n, s in schemes.items() if (s["type"], s.get("in")) == ("apiKey", "cookie")]
    tags = set()
    for (method, template), operation in api.operations():
        where = f"{method.upper()} {template}"
        for code in declared_errors(operation):
            assert operation["responses"][str(code)]["content"] == PROBLEM_CONTENT, (where, code)
        if template.startswith("/api/") and (method, template) not in PUBLIC_API:
            assert operation.get("security") == [{bearer: []}, {cookie: []}], where
        if operation.get("security"):
            assert {401, 403} <= declared_errors(operation), where
        if operation.get("parameters") or operation.get("requestBody"):
            assert 422 in declared_errors(operation), where
        if any(_room_errors(r["description"]) for r in operation["responses"].values()):
            tags.update(operation["tags"])
    assert tags <= SCENARIO_TAGS, (
        f"a room's errors are declared without a scenario here: {tags - SCENARIO_TAGS}"
    )


# -- refusals every guarded route gives -----------------------------------------------------------
@pytest.mark.parametrize("token", [None, "not-a-token"])
async def test_every_guarded_operation_is_401_without_a_valid_token(api: Api, token: str | None) -> None:
    guarded = [op for op, operation in api.operations() if operation.get("security")]
    assert len(guarded) >= 30
    for op in guarded:
        response = await api.send(*op, token=token, **WELL_FORMED.get(op, {}))
        assert (response.status_code, response.json()["error_id"]) == (401, "unauthorized"), op
        assert response.headers["www-authenticate"] == 'Bearer realm="hotline"', op


async def test_an_operators_token_is_403_outside_its_own_desk(api: Api) -> None:
    """Admin and lead routes, and another operator's presence, are 403 for an operator."""
    desk = api.tokens["op-desk"]
    for op, operation in api.operations():
        if not operation.get("security") or op in OPERATOR_DESK:
            continue
        response = await api.send(*op, token=desk, path="op-lead", **WELL_FORMED.get(op, {}))
        if op in OPERATORS_CALLS:
            assert (response.status_code, response.json()["error_id"]) == (404, "call_not_found"), op
            continue
        assert (response.status_code, response.json()["error_id"]) == (403, "forbidden"), op
    for op in OPERATOR_DESK:
        assert (await api.send(*op, token=desk)).status_code == 200, op


async def test_an_invalid_request_is_422_invalid_request(api: Api) -> None:
    probed = []
    for op, operation in api.operations():
        request = _invalid(operation)
        if request is None:
            continue
        response = await api.send(*op, **request)
        assert (response.status_code, response.json()["error_id"]) == (422, "invalid_request"), op
        probed.append(op)
    assert set(WELL_FORMED) <= set(probed) and ("get", "/api/calls") in probed


async def test_a_well_formed_request_answers_only_declared_errors(api: Api) -> None:
    """Every operation once, as an admin; the ids in the path are unknown."""
    assert {op for op, o in api.operations() if "requestBody" in o} == set(WELL_FORMED)
    for op, operation in api.operations():
        if op in ENDLESS:
            continue
        response = await api.send(*op, **WELL_FORMED.get(op, {}))
        if _path_params(operation) and op not in UNKNOWN_ID_IS_NO_ERROR:
            assert 400 <= response.status_code < 500, (op, response.status_code)


async def test_the_frameworks_own_404_and_405_are_problems(api: Api) -> None:
    for method, url, status, error_id in [
        ("GET", "/api/nothing-here", 404, "not_found"),
        ("DELETE", "/api/me", 405, "method_not_allowed"),
        ("POST", "/healthz", 405, "method_not_allowed"),
    ]:
        response = await api.client.request(method, url)
        assert (response.status_code, problem_of(response)["error_id"]) == (status, error_id), url
        if status == 405:
            assert "GET" in response.headers["allow"], url  # the framework's header survives


# -- each room's errors: declared, and they happen -------------------------------------------------
OPERATOR = "/api/operators/{operator_id}"


def _in_queue() -> QueueMemberAdded:
    """What AMI tells the operator board when op-desk joins the crisis queue."""
    return QueueMemberAdded(
        node="local",
        at=datetime.now(UTC),
        call_id="",
        uniqueid="",
        queue="crisis",
        member="op-desk",
        interface="PJSIP/op-desk",
        status=1,
        paused=False,
        paused_reason="",
        in_call=False,
        calls_taken=0,
    )


def _in_call() -> AgentConnect:
    """... and when op-desk answers a caller there."""
    return AgentConnect(
        node="local",
        at=datetime.now(UTC),
        call_id="c-1",
        uniqueid="u-1",
        queue="crisis",
        member="op-desk",
        hold_seconds=3,
        ring_seconds=1,
        member_channel="PJSIP/op-desk-00000001",
    )


def _call_control(desk: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """The desk's call control routes, each with a request naming what the document has."""
    return [
        ("transfer", {**desk, "json": {"mode": "blind", "to": {"queue": "crisis"}}}),
        ("transfer", {**desk, "json": {"mode": "warm", "to": {"referral": "shelter"}}}),
        ("conference", {**desk, "json": {"referral": "shelter"}}),
        ("emergency", desk),
        ("leave", desk),
    ]


def _pending(body: dict[str, Any]) -> dict[str, Any]:
    """An operator's ``asterisk``, whether it is the answer itself or inside a CreatedPublic."""
    asterisk: dict[str, Any] = body.get("operator", body)["asterisk"]
    return asterisk


async def test_the_operators_errors_are_declared_and_happen(api: Api) -> None:
    new = {"json": {"id": "op-new", "display_name": "New"}}
    made = await api.send("post", "/api/operators", **new)  # made; Asterisk gets it when back
    assert made.status_code == 201 and made.json()["api_token"] and made.json()["softphone"]["password"]
    assert _pending(made.json())["applied"] is False and set(_pending(made.json())["pending"]) == {"local"}
    await api.expect(409, "operator_exists", "post", "/api/operators", **new)
    for op, _ in api.operations():
        if op[1].startswith(OPERATOR) and op not in UNKNOWN_ID_IS_NO_ERROR:
            await api.expect(404, "unknown_operator", *op, **WELL_FORMED.get(op, {}))
    desk: dict[str, Any] = {"path": "op-desk"}
    changed = await api.send("patch", OPERATOR, json={"display_name": "Desk"}, **desk)
    rotated = await api.send("post", f"{OPERATOR}/credentials", **desk)
    assert (changed.status_code, rotated.status_code) == (200, 200) and rotated.json()["api_token"]
    assert not _pending(changed.json())["applied"] and not _pending(rotated.json())["applied"]
    await api.expect(502, "presence_failed", "post", f"{OPERATOR}/login", **desk)
    failed = await api.send("post", f"{OPERATOR}/login", **desk)
    assert failed.json()["details"] == {"node": "local"}  # which Asterisk node, as ApplyFailed says
    await api.expect(502, "presence_failed", "post", f"{OPERATOR}/logout", **desk)
    pause = {**desk, "json": {"reason": "break"}}
    await api.expect(409, "operator_not_logged_in", "post", f"{OPERATOR}/pause", **pause)
    reserved = {**desk, "json": {"reason": "recovery"}}  # the burnout guard's own
    await api.expect(422, "pause_reason_reserved", "post", f"{OPERATOR}/pause", **reserved)
    await api.expect(409, "operator_not_logged_in", "post", f"{OPERATOR}/resume", **desk)
    await api.expect(409, "operator_not_in_call", "post", f"{OPERATOR}/escalate", **desk)
    for path, body in _call_control(desk):
        await api.expect(409, "operator_not_in_call", "post", f"{OPERATOR}/{path}", **body)
    nowhere = [{"queue": "nowhere"}, {"referral": "nowhere"}]
    for to, error in zip(nowhere, ("queue_not_found", "referral_not_found"), strict=True):
        await api.expect(404, error, "post", f"{OPERATOR}/transfer", **desk, json={"mode": "warm", "to": to})
    await api.expect(404, "referral_not_found", "post", f"{OPERATOR}/conference", **desk, json=nowhere[1])
    api.hotline.operators.on_event(_in_queue())
    await api.expect(502, "presence_failed", "post", f"{OPERATOR}/pause", **pause)
    await api.expect(502, "presence_failed", "post", f"{OPERATOR}/resume", **desk)
    api.hotline.operators.on_event(_in_call())
    await api.expect(502, "presence_failed", "post", f"{OPERATOR}/escalate", **desk)
    api.hotline.control.on_event(_in_call())  # call control follows the same events
    for path, body in _call_control(desk):
        failed = await api.send("post", f"{OPERATOR}/{path}", **body)
        assert (failed.status_code, failed.json()["error_id"]) == (502, "call_control_failed"), path
        assert failed.json()["details"] == {"node": "local"}
    without = seed_document().model_copy(update={"escalation_queue": None, "emergency": None})
    await _publisher(api.hotline).save_draft(without)
    await _publisher(api.hotline).publish("another admin")
    assert await api.hotline.ivr_service.refresh()
    await api.expect(409, "no_escalation_queue", "post", f"{OPERATOR}/escalate", **desk)
    await api.expect(409, "no_emergency_line", "post", f"{OPERATOR}/emergency", **desk)
    others = {"token": rotated.json()["api_token"], "path": "op-lead"}  # the desk: one's own call only
    await api.expect(403, "forbidden", "get", f"{OPERATOR}/call", **others)
    for path, body in _call_control(others):  # and acts only on one's own call
        await api.expect(403, "forbidden", "post", f"{OPERATOR}/{path}", **body)
    last = {"path": "admin", "json": {"active": False}}  # the fixture's admin is the only one
    await api.expect(409, "last_admin", "patch", "/api/operators/{operator_id}", **last)
    await api.expect(
        409, "last_admin", "patch", "/api/operators/{operator_id}", path="admin", json={"role": "senior"}
    )
    assert api.unprovoked("operators") == []


async def test_the_supervision_errors_are_declared_and_happen(api: Api) -> None:
    sessions, one = "/api/supervision", "/api/supervision/{session_id}"
    lead, desk = api.tokens["op-lead"], api.tokens["op-desk"]
    listen = {"operator": "op-desk", "mode": "listen"}
    await api.expect(403, "forbidden", "post", sessions, token=desk, json=listen)
    machine, _ = api.hotline.people.tokens.create("listener", ["supervision:write"], 1, "test")
    await api.expect(409, "supervisor_needs_softphone", "post", sessions, token=machine, json=listen)
    await api.expect(
        404, "unknown_operator", "post", sessions, token=lead, json={**listen, "operator": "op-x"}
    )
    await api.expect(409, "operator_not_in_call", "post", sessions, token=lead, json=listen)
    await api.expect(
        409, "supervision_conflict", "post", sessions, token=lead, json={**listen, "operator": "op-lead"}
    )
    api.hotline.control.on_event(_in_call())  # op-desk talks; AMI is down
    failed = await api.send("post", sessions, token=lead, json=listen)
    assert (failed.status_code, failed.json()["details"]) == (502, {"node": "local"})
    supervision = api.hotline.supervision
    session = await supervision.start_here("op-lead", "op-desk", Mode.LISTEN, "1765098000.30")  # *44op-desk
    await supervision.spying(session.id, "4", "PJSIP/op-lead-00000009")
    held = {"path": session.id}
    for method, body in (("patch", {"json": {"mode": "barge"}}), ("delete", {})):
        await api.expect(403, "forbidden", method, one, token=desk, **held, **body)
        await api.expect(404, "supervision_not_found", method, one, token=lead, **body)
        await api.expect(502, "supervision_failed", method, one, token=lead, **held, **body)
    await api.expect(403, "forbidden", "get", one, token=desk, **held)  # about op-desk, but not over yet
    await api.expect(404, "supervision_not_found", "get", one)
    await supervision.hung_up(session.id)
    for method, body in (("patch", {"json": {"mode": "barge"}}), ("delete", {})):
        await api.expect(409, "supervision_ended", method, one, token=lead, **held, **body)
    assert (await api.send("get", one, token=desk, **held)).json()["ended_how"] == "hung_up"
    listed = (await api.send("get", sessions, token=desk)).json()
    assert [s["id"] for s in listed["sessions"]] == [session.id] and listed["notice"] is None
    assert api.unprovoked("supervision") == []


async def test_the_ivr_errors_are_declared_and_happen(api: Api) -> None:
    item = "/api/ivr/draft/{section}/{item_id}"
    recording = "/api/ivr/prompts/{prompt_id}/{language}/recording"
    welcome = {"prompt_id": "welcome", "language": "en"}
    await api.expect(422, "ivr_document_invalid", "put", "/api/ivr/draft", json={"languages": "ru"})
    await api.expect(422, "ivr_document_invalid", "put", "/api/ivr/draft/yaml", content=b"- a list\n")
    topic = {"section": "topics", "item_id": "x"}
    await api.expect(422, "ivr_document_invalid", "put", item, path=topic, json={"priority": "high"})
    await api.expect(404, "ivr_not_found", "delete", item, path={"section": "topics", "item_id": "nobody"})
    await api.expect(404, "ivr_not_found", "get", "/api/ivr/versions/{number}/yaml", path={"number": "99"})
    await api.expect(404, "ivr_unknown_version", "post", "/api/ivr/rollback", json={"version": 99})
    await api.expect(502, "asterisk_apply_failed", "post", "/api/ivr/rollback", json={"version": 1})
    await api.expect(502, "asterisk_apply_failed", "post", "/api/ivr/publish", json={})
    await api.expect(422, "prompt_invalid", "put", recording, path=welcome, content=b"not audio")
    too_large = bytes(20 * 1024 * 1024 + 1)
    await api.expect(413, "ivr_upload_too_large", "put", recording, path=welcome, content=too_large)
    shelter = {"section": "topics", "item_id": "violence-home"}  # a topic in a queue that does not exist
    assert (await api.send("put", item, path=shelter, json=SHELTER_TOPIC)).json()["valid"] is False
    await api.expect(422, "ivr_publish_refused", "post", "/api/ivr/publish", json={})
    await api.expect(422, "ivr_draft_invalid", "post", "/api/ivr/simulate", json={"draft": True})
    audio = "/api/ivr/prompts/{prompt_id}/{language}/audio"  # the editor's (ivr/editor_api.py)
    await api.expect(404, "ivr_not_found", "get", audio, path={"prompt_id": "nobody", "language": "en"})
    unspoken = {"section": "prompts", "item_id": "unspoken"}  # a language without a TTS voice
    assert (await api.send("put", item, path=unspoken, json={"zz": {"text": "Hello."}})).status_code == 200
    await api.expect(422, "prompt_invalid", "get", audio, path={"prompt_id": "unspoken", "language": "zz"})
    assert api.unprovoked("ivr") == []


# -- issue 17, item 5: switchboarding (ivr/switchboard_api.py) ------------------------------------
SWITCHBOARD, REDIRECT = "/api/switchboard", "/api/switchboard/{redirect_id}"
SCENARIO_TAGS.add("switchboard")
WELL_FORMED[("post", SWITCHBOARD)] = {"json": {"queue": "crisis", "target_queue": "main", "minutes": 5}}


def _redirect(queue: str, **target: object) -> dict[str, Any]:
    return {"json": {"queue": queue, "minutes": 5, **target}}


async def test_the_switchboard_errors_are_declared_and_happen(api: Api) -> None:
    board, one, to = SWITCHBOARD, REDIRECT, _redirect
    for request in (to("crisis"), to("crisis", target_queue="main", target_referral="shelter")):
        await api.expect(422, "invalid_request", "post", board, **request)  # one target: not none, not two
    await api.expect(422, "invalid_request", "post", board, json={"queue": "crisis", "target_queue": "main"})
    too_short = {"queue": "crisis", "target_queue": "main", "minutes": 0.1}  # 15 s at least
    await api.expect(422, "invalid_request", "post", board, json=too_short)
    await api.expect(404, "queue_not_found", "post", board, **to("nowhere", target_queue="main"))
    unknown = await api.send("post", board, **to("crisis", target_queue="nowhere"))
    assert unknown.json()["details"][0]["where"] == "target_queue", unknown.text
    await api.expect(404, "referral_not_found", "post", board, **to("crisis", target_referral="nowhere"))
    await api.expect(422, "switchboard_to_itself", "post", board, **to("crisis", target_queue="crisis"))
    senior = api.hotline.directory.create("op-senior", "Senior", Role.SENIOR, {}).api_token
    await api.expect(403, "forbidden", "post", board, token=senior, **to("crisis", target_queue="main"))
    made = await api.send("post", board, token=api.tokens["op-lead"], **to("crisis", target_queue="main"))
    assert made.status_code == 201 and made.json()["started_by"] == "op-lead", made.text
    await api.expect(409, "switchboard_active", "post", board, **to("crisis", target_queue="loss"))
    await api.expect(409, "switchboard_loop", "post", board, **to("main", target_queue="crisis"))
    await api.expect(409, "switchboard_chain", "post", board, **to("loss", target_queue="crisis"))
    active = (await api.send("get", board)).json()["active"]
    assert [(r["queue"], r["target_queue"], r["state"]) for r in active] == [("crisis", "main", "active")]
    await api.expect(404, "switchboard_not_found", "delete", one, path={"redirect_id": "99"})
    made_id = {"redirect_id": str(made.json()["id"])}
    ended = await api.send("delete", one, path=made_id)
    assert (ended.json()["state"], ended.json()["ended_by"]) == ("ended", "admin"), ended.text
    await api.expect(409, "switchboard_not_active", "delete", one, path=made_id)
    with api.hotline.engine.begin() as conn:  # the database refuses: nothing changes for callers
        conn.exec_driver_sql("DROP TABLE switchboard")
    await api.expect(503, "switchboard_unavailable", "get", board)
    await api.expect(503, "switchboard_unavailable", "post", board, **to("crisis", target_queue="main"))
    await api.expect(503, "switchboard_unavailable", "delete", one, path=made_id)
    assert api.hotline.switchboard.active() == []
    assert api.unprovoked("switchboard") == []


async def test_the_records_reports_and_planning_errors_are_declared_and_happen(api: Api) -> None:
    await api.expect(422, "invalid_export_range", "get", "/api/calls/export", params={"interval_minutes": 7})
    backwards = {"start": "2026-11-23T00:00:00Z", "end": "2026-11-22T00:00:00Z"}
    for report in ("/api/reports", "/api/reports.csv", "/api/reports.xlsx"):
        await api.expect(422, "report_unknown_timezone", "get", report, params={"tz": "Nowhere/Land"})
        await api.expect(422, "report_invalid_range", "get", report, params=backwards)
        await api.expect(422, "report_invalid", "get", report, params={"short_abandon_seconds": 7})
    await api.expect(422, "planning_error", "get", "/api/planning/now", params={"interval_minutes": 7})
    await api.expect(422, "planning_no_history", "get", "/api/planning/now")
    await api.expect(422, "planning_no_history", "post", "/api/planning/forecast", json={})
    await api.expect(422, "planning_no_history", "post", "/api/planning/roster", json=ROSTER)
    api.hotline.store.save_many([call(datetime(2026, 11, 18, 12, tzinfo=UTC), Outcome.ANSWERED)])
    off_grid = {**ROSTER, "templates": [{"name": "odd", "start": "07:30", "minutes": 480}]}
    await api.expect(422, "roster_invalid", "post", "/api/planning/roster", json=off_grid)
    too_large = {
        **ROSTER,
        "interval_minutes": 15,
        "days": 28,
        "operators": [{"id": f"op-{i}"} for i in range(500)],
    }
    too_large["templates"] = [{"name": f"t{i}", "start": "08:00", "minutes": 480} for i in range(30)]
    await api.expect(422, "roster_invalid", "post", "/api/planning/roster", json=too_large)
    together = await asyncio.gather(
        *(api.send("post", "/api/planning/roster", json=ROSTER) for _ in range(6))
    )
    busy = [r for r in together if r.status_code == 429]  # one making, two waiting, the rest refused
    assert busy and busy[0].headers["retry-after"] == "30" and busy[0].json()["error_id"] == "planning_busy"
    await _summary_errors(api)
    await api.expect(503, "degraded", "get", "/healthz")
    await api.expect(401, "unauthorized", "get", "/healthz", token="not-a-token")
    await api.expect(403, "forbidden", "get", "/healthz", token=api.tokens["op-desk"])
    for tag in ("calls", "reports", "planning"):
        assert api.unprovoked(tag) == [], tag


async def _summary_errors(api: Api) -> None:
    ended = datetime.now(UTC) - timedelta(minutes=5)
    taken = call(ended - timedelta(minutes=3), Outcome.ANSWERED, operator="op-desk", ended_at=ended)
    untaken = call(ended, Outcome.ABANDONED_IN_QUEUE, ended_at=ended)
    late = call(
        ended - timedelta(days=8), Outcome.ANSWERED, operator="op-desk", ended_at=ended - timedelta(days=8)
    )
    api.hotline.store.save_many([taken, untaken, late])
    empty: dict[str, Any] = {"json": {"values": {}}}
    for method, body in (("get", {}), ("put", empty)):
        await api.expect(404, "call_not_found", method, SUMMARY, **body)
        await api.expect(409, "call_not_taken", method, SUMMARY, path=untaken.id, **body)
    not_theirs = {"token": api.tokens["op-desk"], "path": untaken.id, **empty}
    await api.expect(403, "forbidden", "put", SUMMARY, **not_theirs)
    await api.expect(404, "summary_not_found", "get", SUMMARY, path=taken.id)
    await api.expect(409, "summary_window_closed", "put", SUMMARY, path=late.id, **empty)
    await _publisher(api.hotline).save_draft(desk_document())  # a form with a text field
    await _publisher(api.hotline).publish("another admin")
    assert await api.hotline.ivr_service.refresh()
    for values, error_id in [
        ({"colour": "red"}, "summary_unknown_field"),
        ({"risk": "extreme"}, "summary_invalid_value"),
        ({"needs": ["food"]}, "summary_missing_field"),
        ({"risk": "low", "note": "x" * 81}, "summary_text_too_long"),
        ({"risk": "low", "note": "+7 900 000-00-01"}, "summary_personal_data"),
    ]:
        await api.expect(422, error_id, "put", SUMMARY, path=taken.id, json={"values": values})
    saved = await api.send(
        "put", SUMMARY, token=api.tokens["op-desk"], path=taken.id, json={"values": {"risk": "low"}}
    )
    assert saved.status_code == 200, saved.text


# -- issue 17: debrief requests and the wallboard's actions ---------------------------------------
DEBRIEFS = "/api/operators/{operator_id}/debriefs"
DEBRIEF = "/api/debriefs/{debrief_id}"
BOARD = "/api/wallboard/operators/{operator_id}"


def _paused_for_debrief() -> QueueMemberPause:
    """What AMI tells the operator board when op-desk is paused with reason debrief."""
    return QueueMemberPause(
        "local", datetime.now(UTC), "", "", "crisis", "op-desk", "PJSIP/op-desk", 1, True, "debrief", False, 0
    )


async def test_the_debrief_errors_are_declared_and_happen(api: Api) -> None:
    desk, mine = api.tokens["op-desk"], {"path": "op-desk"}
    await api.expect(404, "unknown_operator", "post", DEBRIEFS, json={})
    await api.expect(404, "unknown_operator", "get", DEBRIEFS)
    number = {"note": "call back +7 900 000-00-01"}
    await api.expect(422, "debrief_personal_data", "post", DEBRIEFS, token=desk, **mine, json=number)
    await api.expect(404, "call_not_found", "post", DEBRIEFS, token=desk, **mine, json={"record_id": "nope"})
    theirs = call(datetime.now(UTC) - timedelta(minutes=5), Outcome.ANSWERED, operator="op-lead")
    api.hotline.store.save_many([theirs])
    not_mine = {"record_id": theirs.id}
    await api.expect(403, "forbidden", "post", DEBRIEFS, token=desk, **mine, json=not_mine)
    asked = await api.send(
        "post", DEBRIEFS, token=desk, **mine, json={"note": "a hard call", "suggested": True}
    )
    assert asked.status_code == 201 and asked.json()["state"] == "open", asked.text
    await api.expect(409, "debrief_already_open", "post", DEBRIEFS, token=desk, **mine, json={})
    one = {"path": {"debrief_id": str(asked.json()["id"])}}
    for verb, body in (("start", {}), ("close", {"json": {}})):
        await api.expect(
            404, "debrief_not_found", "post", f"{DEBRIEF}/{verb}", path={"debrief_id": "999"}, **body
        )
    api.hotline.operators.on_event(_in_queue())  # logged in: the start pauses, on a node that is down
    await api.expect(502, "presence_failed", "post", f"{DEBRIEF}/start", **one)
    DebriefStore(api.hotline.engine).started(asked.json()["id"], "op-lead", datetime.now(UTC), paused=True)
    api.hotline.operators.on_event(_paused_for_debrief())  # ... as if that pause had been applied
    await api.expect(502, "presence_failed", "post", f"{DEBRIEF}/close", **one, json={})
    await api.expect(
        422, "debrief_personal_data", "post", f"{DEBRIEF}/close", **one, json={"outcome": "ул. Ленина, 5"}
    )
    closed = await api.send(
        "post", f"{DEBRIEF}/close", **one, json={"outcome": "talked it through", "resume": False}
    )
    assert closed.status_code == 200 and closed.json()["closed_by"] == "admin", closed.text
    await api.expect(409, "debrief_closed", "post", f"{DEBRIEF}/close", **one, json={})
    await api.expect(409, "debrief_closed", "post", f"{DEBRIEF}/start", **one)
    assert api.unprovoked("debriefs") == []


async def test_the_wallboard_actions_errors_are_declared_and_happen(api: Api) -> None:
    desk, pause = {"path": "op-desk"}, {"json": {"reason": "break"}}
    queue = "/api/wallboard/operators/{operator_id}/queues/{queue}"
    at = {"path": {"operator_id": "op-desk", "queue": "crisis"}}
    for op in (("post", f"{BOARD}/pause"), ("post", f"{BOARD}/resume"), ("post", f"{BOARD}/logout")):
        await api.expect(404, "unknown_operator", *op, **WELL_FORMED.get(op, {}))
    await api.expect(404, "unknown_operator", "put", queue, path={"operator_id": "nobody", "queue": "crisis"})
    await api.expect(
        404, "unknown_operator", "delete", queue, path={"operator_id": "nobody", "queue": "crisis"}
    )
    await api.expect(409, "operator_not_logged_in", "post", f"{BOARD}/pause", **desk, **pause)
    await api.expect(
        422, "pause_reason_reserved", "post", f"{BOARD}/pause", **desk, json={"reason": "recovery"}
    )
    await api.expect(409, "operator_not_logged_in", "post", f"{BOARD}/resume", **desk)
    await api.expect(409, "operator_not_logged_in", "put", queue, **at)
    await api.expect(409, "operator_not_logged_in", "delete", queue, **at)
    await api.expect(502, "presence_failed", "post", f"{BOARD}/logout", **desk)
    api.hotline.operators.on_event(_in_queue())  # op-desk in crisis
    await api.expect(502, "presence_failed", "post", f"{BOARD}/pause", **desk, **pause)
    await api.expect(502, "presence_failed", "post", f"{BOARD}/resume", **desk)
    nowhere = {"path": {"operator_id": "op-desk", "queue": "nowhere"}}
    legal = {"path": {"operator_id": "op-desk", "queue": "legal"}}
    for method in ("put", "delete"):
        await api.expect(404, "queue_not_found", method, queue, **nowhere)
    await api.expect(409, "operator_in_queue", "put", queue, **at)
    await api.expect(409, "operator_not_in_queue", "delete", queue, **legal)
    await api.expect(502, "presence_failed", "put", queue, **legal)
    await api.expect(502, "presence_failed", "delete", queue, **at)
    ack = "/api/wallboard/alerts/{alert_id}/acknowledge"
    await api.expect(404, "alert_not_found", "post", ack, path={"alert_id": "wait:nowhere"})
    [first, *_] = (await api.send("get", "/api/wallboard")).json()["alerts"]  # nobody in legal, …
    done = await api.send("post", ack, path={"alert_id": first["id"]})
    assert done.status_code == 200 and done.json()["by"] == "admin", done.text
    await api.expect(409, "alert_acknowledged", "post", ack, path={"alert_id": first["id"]})
    shown = (await api.send("get", "/api/wallboard")).json()["alerts"]
    assert [a["acknowledged"]["by"] for a in shown if a["id"] == first["id"]] == ["admin"]
    recorded = (await api.send("get", "/api/wallboard/actions", params={"operator": "op-desk"})).json()
    assert {(r["action"], r["result"]) for r in recorded} >= {
        ("pause", "operator_not_logged_in"),
        ("pause", "presence_failed"),
        ("queue_add", "operator_in_queue"),
        ("logout", "presence_failed"),
    }
    assert all(r["by"] == "admin" for r in recorded)
    senior = api.hotline.directory.create("op-senior", "Senior", Role.SENIOR, {}).api_token
    for token in (senior, api.tokens["op-desk"]):  # shift leads and admins only
        await api.expect(403, "forbidden", "post", f"{BOARD}/pause", token=token, **desk, **pause)
        await api.expect(403, "forbidden", "get", "/api/wallboard/actions", token=token)
        await api.expect(403, "forbidden", "get", "/api/debriefs", token=token)
    lead = await api.send("get", "/api/wallboard/actions", token=api.tokens["op-lead"])
    assert lead.status_code == 200 and lead.json()[0]["by"] == "admin"
    assert api.unprovoked("wallboard") == []


async def test_the_accounts_errors_are_declared_and_happen(api: Api) -> None:
    accounts = api.hotline.people.accounts
    for who in ("op-desk", "op-lead"):
        accounts.set_password(who, "a long enough passphrase")
    session = "/api/session"
    await api.expect(
        401, "sign_in_failed", "post", session, token=None, json={"id": "op-desk", "password": "wrong!"}
    )
    signed = await api.send(
        "post", session, token=None, json={"id": "op-desk", "password": "a long enough passphrase"}
    )
    cookie = {
        "Cookie": f"hotline_session={signed.cookies['hotline_session']}",
        "X-CSRF-Token": signed.json()["csrf"],
    }
    mine = {"token": None, "headers": cookie}
    change = "/api/session/password"
    await api.expect(
        401,
        "sign_in_failed",
        "put",
        change,
        **mine,
        json={"current": "wrong!", "new": "x" * 3 + "yz12345678"},
    )
    await api.expect(
        422,
        "weak_password",
        "put",
        change,
        **mine,
        json={"current": "a long enough passphrase", "new": "short"},
    )
    factor = "/api/session/second-factor"
    secret = (await api.send("post", factor, **mine)).json()["secret"]
    wrong = "000000" if passwords.totp(secret) != "000000" else "111111"
    await api.expect(401, "sign_in_failed", "put", factor, **mine, json={"code": wrong})
    assert (await api.send("put", factor, **mine, json={"code": passwords.totp(secret)})).json()[
        "second_factor"
    ]
    await api.expect(409, "second_factor_enrolled", "post", factor, **mine)
    await api.expect(
        409, "second_factor_enrolled", "put", factor, **mine, json={"code": passwords.totp(secret)}
    )
    again = {"id": "op-desk", "password": "a long enough passphrase"}
    await api.expect(401, "second_factor_required", "post", session, token=None, json=again)
    await api.expect(404, "unknown_operator", "delete", "/api/operators/{operator_id}/second-factor")
    await api.expect(404, "unknown_token", "delete", "/api/tokens/{token_id}")
    await api.expect(
        422, "unknown_scope", "post", "/api/tokens", json={"name": "x", "scopes": ["records:delete"]}
    )
    await api.expect(404, "unknown_kiosk", "delete", "/api/kiosks/{kiosk_id}")
    await api.expect(
        401, "kiosk_pairing_failed", "post", "/api/kiosks/pair", token=None, json={"code": "nothing"}
    )
    lead = {"id": "op-lead", "password": "not the password"}
    for _ in range(4):  # with the failures above, 5 in a row for op-lead: locked
        await api.expect(401, "sign_in_failed", "post", session, token=None, json=lead)
    await api.expect(401, "sign_in_failed", "post", session, token=None, json=lead)
    await api.expect(429, "account_locked", "post", session, token=None, json=lead)
    for _ in range(3):  # ten failures from this address in a minute: it waits
        await api.send("post", session, token=None, json={"id": "nobody", "password": "not the password"})
    await api.expect(429, "sign_in_throttled", "post", session, token=None, json=again)
    await api.expect(
        429, "sign_in_throttled", "post", "/api/kiosks/pair", token=None, json={"code": "nothing"}
    )
    assert api.unprovoked("accounts") == []
