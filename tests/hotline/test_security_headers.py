"""Security headers on every answer of the HTTP app, and the five pages load in Chromium under
its Content-Security-Policy without a violation (issue 14, item 8)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import APIRouter
from playwright.sync_api import Browser
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from hotline.http import PAGES, create_app
from hotline.security import HEADERS
from tests.browser import sign_in
from tests.hotline.test_pages import PASSWORD, PERSON, browser, served  # noqa: F401  - the same shell, driven alike

# Every violation the page sees, whatever the console shows: recorded before any page script runs.
RECORD_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(e.violatedDirective + " " + e.blockedURI));
"""


class Boom(Exception):
    pass


def router() -> APIRouter:
    api = APIRouter()

    async def fine() -> dict[str, str]:
        return {"status": "ok"}

    async def broken() -> None:
        raise Boom

    api.add_api_route("/api/fine", fine, methods=["GET"])
    api.add_api_route("/api/broken", broken, methods=["GET"])
    return api


async def metrics(scope: Scope, receive: Receive, send: Send) -> None:
    await PlainTextResponse("hotline_up 1\n")(scope, receive, send)


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    app = create_app([router()], metrics=metrics, health=lambda: ({"status": "ok"}, True))
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline") as c:
        yield c


PATHS = [
    *(f"/{page}/" for page in PAGES),
    "/admin",  # a redirect
    "/static/common.js",
    "/api/fine",
    "/api/broken",  # a 500 from the outermost layer
    "/api/nowhere",  # a 404 problem
    "/metrics",
    "/healthz",
    "/openapi.json",
]


@pytest.mark.parametrize("path", PATHS)
async def test_every_answer_carries_the_security_headers(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert {name: answer.headers.get(name) for name, _ in HEADERS} == dict(HEADERS), answer.status_code


@pytest.mark.parametrize("path", ["/api/fine", "/api/broken", "/api/nowhere"])
async def test_no_answer_of_the_api_is_kept_in_a_cache(client: httpx.AsyncClient, path: str) -> None:
    """A new person's credentials or a token are shown once: no browser or proxy cache keeps them."""
    assert (await client.get(path)).headers["cache-control"] == "no-store"


async def test_static_files_outside_the_api_may_still_be_cached(client: httpx.AsyncClient) -> None:
    assert "no-store" not in (await client.get("/static/common.js")).headers.get("cache-control", "")


def test_the_policy_allows_nothing_from_outside_nor_inline_and_no_framing() -> None:
    policy = dict(HEADERS)["content-security-policy"]
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["default-src"] == "'none'" and directives["frame-ancestors"] == "'none'"
    assert all("unsafe" not in v and "http" not in v and "*" not in v for v in directives.values())


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/docs/oauth2-redirect"])
async def test_no_page_loads_assets_from_a_cdn(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 404 and "cdn" not in answer.text


async def test_the_schema_stays_served(client: httpx.AsyncClient) -> None:
    answer = await client.get("/openapi.json")
    assert answer.status_code == 200 and answer.json()["info"]["title"] == "Hotline"


# Last: the sync playwright keeps its own event loop running until the module ends.
@pytest.mark.parametrize("page", PAGES)
def test_each_page_loads_and_signs_in_without_a_policy_violation(
    browser: Browser,  # noqa: F811
    served: str,  # noqa: F811
    page: str,
) -> None:
    context = browser.new_context()
    context.add_init_script(RECORD_VIOLATIONS)
    tab = context.new_page()
    console: list[str] = []
    tab.on("console", lambda m: console.append(m.text) if "Content Security Policy" in m.text else None)
    answer = tab.goto(f"{served}/{page}/")
    assert (
        answer is not None
        and answer.headers["content-security-policy"] == dict(HEADERS)["content-security-policy"]
    )
    sign_in(tab, PERSON, PASSWORD)
    tab.wait_for_load_state("networkidle")
    sheets = tab.evaluate("[...document.styleSheets].map((s) => s.href)")
    assert sheets == [f"{served}/static/common.css", f"{served}/static/{page}.css"]
    assert tab.evaluate("window.__violations") == [] and console == []
    context.close()
