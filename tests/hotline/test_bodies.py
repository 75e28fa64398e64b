"""Bodies (issue 14, item 2): a token before the body is read, a cap on every body enforced
while it is read, a recording streamed against its own cap. The app is the composition root's
(tests/hotline/test_problems.py); the client's body is a generator, so the tests see how much
of it the service pulled before it answered."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from core.db import migrate
from hotline.app import Hotline
from hotline.bodies import DEFAULT_LIMIT
from tests.accounts import make_admin
from tests.conftest import make_settings
from tests.hotline.test_problems import ADMIN_TOKEN, Api, api, sounds  # noqa: F401  (fixtures)
from tests.problems import problem_of

MB = 1024 * 1024


class Body:
    """``total`` bytes in ``chunk``-sized pieces, counting the pieces the server pulled."""

    def __init__(self, total: int, chunk: int = MB, first: bytes = b"") -> None:
        self.total, self.chunk, self.first, self.pulled = total, chunk, first, 0

    async def __aiter__(self) -> AsyncIterator[bytes]:
        sent = 0
        while sent < self.total:
            piece = (self.first if sent == 0 else b"") or b" " * min(self.chunk, self.total - sent)
            self.pulled += 1
            sent += len(piece)
            yield piece


def _bearer(token: str | None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def test_an_anonymous_50_mb_body_gets_its_401_before_it_is_read(api: Api) -> None:  # noqa: F811
    for token in (None, "not-a-token"):
        body = Body(50 * MB, first=b'{"id": "op-x", "display_name": "' + b"x" * (MB - 32))
        headers = {"content-type": "application/json", **_bearer(token)}
        answer = await api.client.post("/api/operators", content=body, headers=headers)
        assert (answer.status_code, problem_of(answer)["error_id"]) == (401, "unauthorized")
        assert answer.headers["www-authenticate"] == 'Bearer realm="hotline"'
        assert body.pulled <= 1, f"the service read {body.pulled} MB of an anonymous body"


async def test_invalid_utf8_without_a_token_is_401_not_400(api: Api) -> None:  # noqa: F811
    bad = b'{"id": "\xff\xfe"}'
    for method, url in (
        ("POST", "/api/operators"),
        ("PUT", "/api/ivr/draft/yaml"),
        ("PUT", "/api/ivr/draft"),
    ):
        answer = await api.client.request(
            method, url, content=bad, headers={"content-type": "application/json"}
        )
        assert (answer.status_code, problem_of(answer)["error_id"]) == (401, "unauthorized"), url


async def test_a_body_over_the_cap_is_413_before_or_while_it_is_read(api: Api) -> None:  # noqa: F811
    declared = await api.send("post", "/api/operators", content=b"x" * (DEFAULT_LIMIT + 1))
    assert (declared.status_code, problem_of(declared)["error_id"]) == (413, "payload_too_large")
    chunked = Body(8 * MB, chunk=64 * 1024)  # no Content-Length: counted as it arrives
    headers = {"content-type": "application/json", **_bearer(ADMIN_TOKEN)}
    answer = await api.client.post("/api/operators", content=chunked, headers=headers)
    assert (answer.status_code, problem_of(answer)["error_id"]) == (413, "payload_too_large")
    assert chunked.pulled <= DEFAULT_LIMIT // (64 * 1024) + 1
    within = await api.send("post", "/api/operators", json={"id": "op-small", "display_name": "Small"})
    assert within.status_code == 201


async def test_a_recording_is_streamed_against_its_own_cap(api: Api) -> None:  # noqa: F811
    recording = "/api/ivr/prompts/welcome/en/recording"
    body = Body(64 * MB)  # chunked: the route counts as it reads
    answer = await api.client.put(recording, content=body, headers=_bearer(ADMIN_TOKEN))
    assert (answer.status_code, problem_of(answer)["error_id"]) == (413, "ivr_upload_too_large")
    assert body.pulled <= 21, f"{body.pulled} MB read of a recording capped at 20 MB"


async def test_a_body_that_stops_arriving_is_cut_off_with_a_408(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, http={"body_idle_seconds": 0.3})
    hotline = Hotline(settings)
    migrate(hotline.engine)
    make_admin(hotline.engine, ADMIN_TOKEN)

    async def stalls() -> AsyncIterator[bytes]:
        yield b'{"id": "op-slow", '
        await asyncio.sleep(30)  # a client that holds its request open: never reached
        yield b'"display_name": "Slow"}'

    transport = httpx.ASGITransport(app=hotline.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://hotline", timeout=10) as client:
        headers = {"content-type": "application/json", **_bearer(ADMIN_TOKEN)}
        answer = await asyncio.wait_for(client.post("/api/operators", content=stalls(), headers=headers), 10)
    assert (answer.status_code, problem_of(answer)["error_id"]) == (408, "request_timeout")
    assert "stopped arriving for 0.3 s" in problem_of(answer)["detail"]
    assert answer.headers["connection"] == "close"
    hotline.engine.dispose()
