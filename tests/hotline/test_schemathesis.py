"""Schemathesis over the app's OpenAPI document (issue 14, item 7): generated requests, with an
admin's token, never get a 5xx, except a 502 or 503 the operation documents (Asterisk away: the
node "local" never logs in here, as in test_problems.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from core.db import migrate
from hotline.app import Hotline
from hotline.openapi import declared_errors
from tests.accounts import make_admin
from tests.conftest import make_settings
from tests.hotline.test_problems import ADMIN_TOKEN, _publisher

SKIPPED = ("/api/wallboard/stream",)  # Server-Sent Events never end
ASTERISK_AWAY = {502, 503}
MAX_EXAMPLES = 25  # per operation: the whole walk stays well under a minute


@pytest.fixture(scope="module")
def hotline(tmp_path_factory: pytest.TempPathFactory) -> Any:
    tmp = tmp_path_factory.mktemp("schemathesis")
    node = {"name": "local", "ami_secret": "s" * 24, "config_dir": str(tmp / "etc"), "layout": "sandbox"}
    config = make_settings(tmp, prompts_dir=str(tmp / "sounds"), asterisk=[node])
    app = Hotline(config)
    migrate(app.engine)
    make_admin(app.engine, ADMIN_TOKEN)
    asyncio.run(_publisher(app).start(config.ivr_seed))
    yield app
    app.engine.dispose()


def test_no_generated_request_gets_a_server_error(hotline: Hotline) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", hotline.app)
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        if operation.path in SKIPPED:
            continue
        operations += 1
        try:
            _explore(operation.as_strategy(), operation.definition.raw)
        except AssertionError as failure:
            failures.append(str(failure))
    assert operations >= 30
    assert failures == []


def _explore(cases: Any, definition: dict[str, Any]) -> None:
    declared = declared_errors(definition)

    @given(case=cases)
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case: Any) -> None:
        response = case.call(headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
        status = response.status_code
        if status >= 500:
            assert status in ASTERISK_AWAY and status in declared, (
                f"{case.method} {case.formatted_path} answered {status}: {response.text[:300]}"
            )

    run()
