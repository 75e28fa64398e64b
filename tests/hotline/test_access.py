"""Who may call what (issue 18): every guarded /api operation, by role with a page's session
cookie, and by scope with a machine's token; a change from a page without its CSRF token is
refused; a kiosk reads the wallboard and nothing else.

``POLICY`` is the line's access policy written out: the roles (o operator, s senior, l shift
lead, a admin) and the area whose ``<area>:read``/``<area>:write`` scope a token needs. A route
added or a guard changed fails ``test_the_policy_is_the_apps`` until this table says so."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi.routing import APIRoute

from agents.directory import Role
from agents.tokens import SCOPES, scope_of
from core.errors import DomainError
from hotline.http import PAGES
from tests.hotline.test_problems import ENDLESS, WELL_FORMED, Api, api, sounds  # noqa: F401  (fixtures)

Operation = tuple[str, str]
LETTERS = {"o": Role.OPERATOR, "s": Role.SENIOR, "l": Role.SHIFT_LEAD, "a": Role.ADMIN}
POLICY: dict[Operation, tuple[str, str]] = {
    ("get", "/api/audit"): ("a", "audit"),
    ("get", "/api/audit/export"): ("a", "audit"),
    ("get", "/api/audit/verify"): ("a", "audit"),
    ("get", "/api/calls"): ("la", "records"),
    ("get", "/api/calls/export"): ("la", "records"),
    ("get", "/api/calls/{record_id}/summary"): ("osla", "records"),
    ("put", "/api/calls/{record_id}/summary"): ("osla", "records"),
    ("get", "/api/debriefs"): ("la", "operators"),
    ("post", "/api/debriefs/{debrief_id}/close"): ("la", "operators"),
    ("post", "/api/debriefs/{debrief_id}/start"): ("la", "operators"),
    ("get", "/api/ivr/diff"): ("a", "ivr"),
    ("get", "/api/ivr/draft"): ("a", "ivr"),
    ("put", "/api/ivr/draft"): ("a", "ivr"),
    ("get", "/api/ivr/draft/yaml"): ("a", "ivr"),
    ("put", "/api/ivr/draft/yaml"): ("a", "ivr"),
    ("delete", "/api/ivr/draft/{section}/{item_id}"): ("a", "ivr"),
    ("put", "/api/ivr/draft/{section}/{item_id}"): ("a", "ivr"),
    ("get", "/api/ivr/prompts/{prompt_id}/{language}/audio"): ("a", "ivr"),
    ("put", "/api/ivr/prompts/{prompt_id}/{language}/recording"): ("a", "ivr"),
    ("post", "/api/ivr/publish"): ("a", "ivr"),
    ("post", "/api/ivr/rollback"): ("a", "ivr"),
    ("post", "/api/ivr/simulate"): ("a", "ivr"),
    ("post", "/api/ivr/validate"): ("a", "ivr"),
    ("get", "/api/ivr/versions"): ("a", "ivr"),
    ("get", "/api/ivr/versions/{number}/yaml"): ("a", "ivr"),
    ("get", "/api/kiosks"): ("a", "accounts"),
    ("post", "/api/kiosks"): ("a", "accounts"),
    ("delete", "/api/kiosks/{kiosk_id}"): ("a", "accounts"),
    ("get", "/api/me"): ("osla", "operators"),
    ("get", "/api/me/softphone"): ("osla", "operators"),
    ("post", "/api/operators"): ("a", "operators"),
    ("get", "/api/operators"): ("la", "operators"),
    ("patch", "/api/operators/{operator_id}"): ("a", "operators"),
    ("get", "/api/operators/{operator_id}"): ("osla", "operators"),
    ("get", "/api/operators/{operator_id}/call"): ("osla", "desk"),
    ("post", "/api/operators/{operator_id}/conference"): ("osla", "desk"),
    ("post", "/api/operators/{operator_id}/credentials"): ("a", "operators"),
    ("get", "/api/operators/{operator_id}/debriefs"): ("osla", "operators"),
    ("post", "/api/operators/{operator_id}/debriefs"): ("osla", "operators"),
    ("post", "/api/operators/{operator_id}/emergency"): ("osla", "desk"),
    ("post", "/api/operators/{operator_id}/escalate"): ("osla", "operators"),
    ("post", "/api/operators/{operator_id}/leave"): ("osla", "desk"),
    ("post", "/api/operators/{operator_id}/login"): ("osla", "operators"),
    ("post", "/api/operators/{operator_id}/logout"): ("osla", "operators"),
    ("post", "/api/operators/{operator_id}/pause"): ("osla", "operators"),
    ("get", "/api/operators/{operator_id}/pauses"): ("osla", "operators"),
    ("post", "/api/operators/{operator_id}/resume"): ("osla", "operators"),
    ("delete", "/api/operators/{operator_id}/second-factor"): ("a", "accounts"),
    ("post", "/api/operators/{operator_id}/transfer"): ("osla", "desk"),
    ("post", "/api/planning/forecast"): ("la", "planning"),
    ("get", "/api/planning/now"): ("la", "planning"),
    ("get", "/api/planning/setup"): ("la", "planning"),
    ("post", "/api/planning/roster"): ("la", "planning"),
    ("get", "/api/referrals"): ("osla", "ivr"),
    ("get", "/api/topics"): ("la", "operators"),
    ("get", "/api/reports"): ("la", "reports"),
    ("get", "/api/reports.csv"): ("la", "reports"),
    ("get", "/api/reports.xlsx"): ("la", "reports"),
    ("get", "/api/supervision"): ("osla", "supervision"),
    ("post", "/api/supervision"): ("osla", "supervision"),
    ("delete", "/api/supervision/{session_id}"): ("osla", "supervision"),
    ("get", "/api/supervision/{session_id}"): ("osla", "supervision"),
    ("patch", "/api/supervision/{session_id}"): ("osla", "supervision"),
    ("get", "/api/switchboard"): ("la", "switchboard"),
    ("post", "/api/switchboard"): ("la", "switchboard"),
    ("delete", "/api/switchboard/{redirect_id}"): ("la", "switchboard"),
    ("get", "/api/tokens"): ("a", "accounts"),
    ("post", "/api/tokens"): ("a", "accounts"),
    ("get", "/api/tokens/scopes"): ("a", "accounts"),
    ("delete", "/api/tokens/{token_id}"): ("a", "accounts"),
    ("get", "/api/wallboard"): ("la", "wallboard"),
    ("get", "/api/wallboard/actions"): ("la", "wallboard"),
    ("post", "/api/wallboard/alerts/{alert_id}/acknowledge"): ("la", "wallboard"),
    ("post", "/api/wallboard/operators/{operator_id}/logout"): ("la", "wallboard"),
    ("post", "/api/wallboard/operators/{operator_id}/pause"): ("la", "wallboard"),
    ("delete", "/api/wallboard/operators/{operator_id}/queues/{queue}"): ("la", "wallboard"),
    ("put", "/api/wallboard/operators/{operator_id}/queues/{queue}"): ("la", "wallboard"),
    ("post", "/api/wallboard/operators/{operator_id}/resume"): ("la", "wallboard"),
    ("get", "/api/wallboard/stream"): ("la", "wallboard"),
}
PEOPLE = {Role.OPERATOR: "op-desk", Role.SENIOR: "op-senior", Role.SHIFT_LEAD: "op-lead", Role.ADMIN: "admin"}
PASSWORD = "a long enough passphrase"
GUARD_REFUSAL = ("this needs the role", "this needs the scope", "this needs a person")


def _walk(routes: list[Any]) -> list[APIRoute]:
    out: list[APIRoute] = []
    for route in routes:
        if hasattr(route, "original_router"):
            out += _walk(route.original_router.routes)
        elif isinstance(route, APIRoute):
            out.append(route)
    return out


def _guards(dependant: Any) -> list[Any]:
    found = []
    for dep in dependant.dependencies:
        if hasattr(dep.call, "roles"):
            found.append(dep.call)
        found += _guards(dep)
    return found


def _letters(roles: frozenset[Role]) -> str:
    return "".join(k for k, r in LETTERS.items() if r in roles)


async def _sessions(api: Api) -> dict[Role, dict[str, str]]:  # noqa: F811
    """Each role's signed-in page: its cookie and CSRF token."""
    h = api.hotline
    h.directory.create("op-senior", "Senior", Role.SENIOR, {})
    headers = {}
    for role, who in PEOPLE.items():
        h.people.accounts.set_password(who, PASSWORD)
        signed = await api.client.post("/api/session", json={"id": who, "password": PASSWORD})
        assert signed.status_code == 200, signed.text
        cookie = f"hotline_session={signed.cookies['hotline_session']}"
        headers[role] = {"Cookie": cookie, "X-CSRF-Token": signed.json()["csrf"]}
    return headers


def _url(template: str, who: str) -> str:
    """Path parameters: the caller's own id where one is an operator's, else a name nobody has."""
    values = {"operator_id": who, "section": "topics", "language": "ru", "number": "1", "queue": "crisis"}
    return template.format_map(_Default(values))


class _Default(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "nobody"


def _refused_by_guard(response: httpx.Response) -> bool:
    if response.status_code == 401:
        return True
    return response.status_code == 403 and response.json()["detail"].startswith(GUARD_REFUSAL)


async def _call(api: Api, op: Operation, headers: dict[str, str], who: str) -> httpx.Response:  # noqa: F811
    method, template = op
    if template.endswith("/credentials"):
        who = "nobody"  # one's own reset would end the session the next calls use
    # No body: a guard that admits leaves a 422 (or the route's own answer) and nothing changes.
    return await api.client.request(method, _url(template, who), headers=headers)


def test_the_policy_is_the_apps(api: Api) -> None:  # noqa: F811
    actual = {}
    for route in _walk(api.hotline.app.routes):
        guards = _guards(route.dependant)
        if not route.path.startswith("/api/") or route.path.startswith("/api/session") or not guards:
            continue
        for method in route.methods:
            actual[(method.lower(), route.path)] = (_letters(guards[0].roles), guards[0].area)
    assert actual == POLICY


async def test_each_role_with_a_session_may_call_what_the_policy_says_and_nothing_else(api: Api) -> None:  # noqa: F811
    sessions = await _sessions(api)
    for op, (letters, _) in sorted(POLICY.items()):
        for role, headers in sessions.items():
            if op in ENDLESS and role in {LETTERS[x] for x in letters}:
                continue  # a stream that admits never ends: its refusals only
            response = await _call(api, op, headers, PEOPLE[role])
            allowed = role in {LETTERS[x] for x in letters}
            assert _refused_by_guard(response) is not allowed, (op, role, response.status_code, response.text)


async def test_a_token_needs_the_scope_of_the_routes_area_and_verb(api: Api) -> None:  # noqa: F811
    tokens = api.hotline.people.tokens
    for op, (_, area) in sorted(POLICY.items()):
        scope = scope_of(area, op[0].upper())
        exact, _ = tokens.create("exact", [scope], 1, "test")
        others, _ = tokens.create("others", [s for s in SCOPES if s != scope], 1, "test")
        refused = await _call(api, op, {"Authorization": f"Bearer {others}"}, "nobody")
        assert refused.status_code == 403 and scope in refused.json()["detail"], (op, refused.text)
        if op not in ENDLESS:
            admitted = await _call(api, op, {"Authorization": f"Bearer {exact}"}, "nobody")
            assert not _refused_by_guard(admitted), (op, admitted.text)


async def test_a_change_from_a_page_without_its_csrf_token_is_refused(api: Api) -> None:  # noqa: F811
    sessions = await _sessions(api)
    admin = sessions[Role.ADMIN]
    changes = [op for op in POLICY if op[0] != "get"]
    assert len(changes) > 40
    for op in changes:
        for headers in ({"Cookie": admin["Cookie"]}, {**admin, "X-CSRF-Token": "forged"}):
            url = _url(op[1], "admin")
            response = await api.client.request(op[0], url, headers=headers, **WELL_FORMED.get(op, {}))
            assert (response.status_code, response.json()["error_id"]) == (403, "csrf_failed"), op


async def test_a_kiosk_reads_the_wallboard_and_nothing_else(api: Api) -> None:  # noqa: F811
    code, _ = api.hotline.people.sessions.issue_kiosk("hall TV", "admin")
    paired = await api.client.post("/api/kiosks/pair", json={"code": code})
    assert paired.status_code == 204
    set_cookie = paired.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "Secure" in set_cookie and "SameSite=strict" in set_cookie
    assert "Max-Age=15552000" in set_cookie  # 180 days: it survives the TV's browser restarting
    kiosk = {"Cookie": f"hotline_kiosk={paired.cookies['hotline_kiosk']}"}
    assert (await api.client.get("/api/wallboard", headers=kiosk)).status_code == 200
    for op in POLICY:
        if op in ENDLESS or op == ("get", "/api/wallboard"):
            continue
        response = await _call(api, op, kiosk, "nobody")
        if op[1].startswith("/api/wallboard") and op[0] == "get":
            assert not _refused_by_guard(response), op
        else:
            assert response.status_code == 403, (op, response.text)
    assert (await api.client.get("/api/session", headers=kiosk)).status_code == 403  # not a person


async def test_a_sign_in_sets_a_strict_cookie_and_sign_out_ends_it(api: Api) -> None:  # noqa: F811
    api.hotline.people.accounts.set_password("op-desk", PASSWORD)
    signed = await api.client.post("/api/session", json={"id": "op-desk", "password": PASSWORD})
    set_cookie = signed.headers["set-cookie"]
    assert "HttpOnly" in set_cookie and "Secure" in set_cookie and "SameSite=strict" in set_cookie
    assert "Max-Age" not in set_cookie and "expires" not in set_cookie.lower()  # the browser's session
    cookie = f"hotline_session={signed.cookies['hotline_session']}"
    headers = {"Cookie": cookie, "X-CSRF-Token": signed.json()["csrf"]}
    me = await api.client.get("/api/session", headers=headers)
    assert me.json()["id"] == "op-desk" and me.json()["role"] == "operator"
    assert me.json()["language"] is None  # the browser's, until one is chosen
    chosen = await api.client.put("/api/session/language", json={"language": "pl"}, headers=headers)
    assert (
        chosen.json()["language"] == "pl"
        and (await api.client.get("/api/session", headers=headers)).json()["language"] == "pl"
    )
    assert (
        await api.client.put("/api/session/language", json={"language": "de"}, headers=headers)
    ).status_code == 422
    assert (await api.client.delete("/api/session", headers=headers)).status_code == 204
    assert (await api.client.get("/api/me", headers=headers)).status_code == 401


async def test_a_machine_token_makes_no_admin_or_lead_and_no_broader_token(api: Api) -> None:  # noqa: F811
    tokens = api.hotline.people.tokens
    hr, _ = tokens.create("hr-sync", ["operators:write", "operators:read", "accounts:write"], 1, "admin")
    bearer = {"Authorization": f"Bearer {hr}"}
    for role in ("admin", "shift_lead"):
        made = await api.client.post(
            "/api/operators", json={"id": f"op-{role[:4]}", "display_name": "X", "role": role}, headers=bearer
        )
        assert made.status_code == 403 and "machine token" in made.json()["detail"], made.text
    made = await api.client.post("/api/operators", json={"id": "op-hr", "display_name": "Hr"}, headers=bearer)
    assert made.status_code == 201  # an operator: what such a token is for
    promoted = await api.client.patch("/api/operators/op-hr", json={"role": "admin"}, headers=bearer)
    assert promoted.status_code == 403
    for path, body in (
        ("/api/operators/op-lead", {"active": False}),
        ("/api/operators/admin", {"display_name": "Y"}),
    ):
        assert (await api.client.patch(path, json=body, headers=bearer)).status_code == 403, path
    assert (await api.client.post("/api/operators/admin/credentials", headers=bearer)).status_code == 403
    assert (await api.client.delete("/api/operators/op-hr/second-factor", headers=bearer)).status_code == 403
    broader = await api.client.post(
        "/api/tokens", json={"name": "all", "scopes": list(SCOPES)}, headers=bearer
    )
    assert broader.status_code == 403 and "within its own scopes" in broader.json()["detail"]
    narrower = await api.client.post(
        "/api/tokens", json={"name": "read", "scopes": ["operators:read"]}, headers=bearer
    )
    assert narrower.status_code == 201
    staff, _ = tokens.create(
        "provisioning", ["operators:write", "staff:write"], 1, "admin"
    )  # granted on purpose
    lead = {"id": "op-newlead", "display_name": "Lead", "role": "shift_lead"}
    made = await api.client.post("/api/operators", json=lead, headers={"Authorization": f"Bearer {staff}"})
    assert made.status_code == 201


def test_sign_in_failures_count_per_ipv6_network_not_per_address() -> None:
    from agents.throttle import Throttle

    throttle = Throttle(failures=2, window=60)
    throttle.failed("2001:db8:1:2::1")
    throttle.failed("2001:db8:1:2::ffff")  # another address of the same /64
    with pytest.raises(DomainError, match="too many failed sign-ins"):
        throttle.admit("2001:db8:1:2:abcd::9")
    throttle.admit("2001:db8:1:3::1")  # the next /64 is someone else
    throttle.failed("192.0.2.1")
    throttle.failed("192.0.2.1")
    throttle.admit("192.0.2.2")  # IPv4: each address alone


async def test_a_kiosk_paired_in_a_signed_in_browser_keeps_the_person_and_a_new_sign_in_ends_the_old(
    api: Api,  # noqa: F811
) -> None:
    api.hotline.people.accounts.set_password("admin", PASSWORD)
    first = await api.client.post("/api/session", json={"id": "admin", "password": PASSWORD})
    person = first.cookies["hotline_session"]
    code, _ = api.hotline.people.sessions.issue_kiosk("hall TV", "admin")
    paired = await api.client.post(
        "/api/kiosks/pair", json={"code": code}, headers={"Cookie": f"hotline_session={person}"}
    )
    both = {"Cookie": f"hotline_session={person}; hotline_kiosk={paired.cookies['hotline_kiosk']}"}
    assert (await api.client.get("/api/session", headers=both)).json()["id"] == "admin"  # still the admin
    again = await api.client.post(
        "/api/session",
        json={"id": "admin", "password": PASSWORD},
        headers={"Cookie": f"hotline_session={person}"},
    )
    assert again.status_code == 200
    assert (
        await api.client.get("/api/session", headers={"Cookie": f"hotline_session={person}"})
    ).status_code == 401


# Routes without a guard: signing in, the pages and what serves them, and Twilio's webhooks
# (public, but each request must be signed by Twilio: ivr/twilio_api.py). A route added without
# a guard fails the test below until it is listed here.
PUBLIC: set[Operation] = {
    ("post", "/api/session"),
    ("post", "/api/kiosks/pair"),
    ("get", "/healthz"),  # its details need a lead's token
    *(("get", f"/{page}{end}") for page in PAGES for end in ("", "/")),
    ("post", "/twilio/voice"),
    ("post", "/twilio/gather"),
    ("post", "/twilio/status"),
    ("get", "/twilio/prompts/{version}/{prompt_id}/{language}/{token}.wav"),  # under our token only
}


def test_every_route_without_a_guard_is_listed_as_public(api: Api) -> None:  # noqa: F811
    public = set()
    for route in _walk(api.hotline.app.routes):
        if not _guards(route.dependant):
            public.update((method.lower(), route.path) for method in route.methods)
    assert public == PUBLIC
