"""The live topics for the operators page (GET /api/topics): each topic of the live document
with its names in every language and its queue, as the shipped demo line (hotline-ivr.yaml)
has them; a shift lead reads them, an operator is refused (who may read what is
tests/hotline/test_access.py's)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from agents.directory import OperatorDirectory, Role
from core.db import make_engine, migrate
from hotline.http import create_app
from ivr.api import topics_router
from ivr.codec import from_yaml
from ivr.document import IvrDocument
from ivr.prompts import PromptStudio
from ivr.service import IvrService
from ivr.store import IvrStore
from tests.accounts import authenticator
from tests.conftest import ROOT

LEADS = {Role.SHIFT_LEAD, Role.ADMIN}


async def _nothing(_: IvrDocument) -> None:
    return None


@pytest.fixture
async def tokens(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, dict[Role, str]]]:
    database = make_engine(f"sqlite:///{tmp_path / 'hotline.sqlite3'}")
    migrate(database)
    service = IvrService(IvrStore(database), PromptStudio(tmp_path), _nothing, Path("/srv/hotline/sounds"))
    await service.start(ROOT / "hotline-ivr.yaml")
    directory = OperatorDirectory(database)
    made = {r: directory.create(f"p-{r.value}".replace("_", "-"), r.value, r, {}).api_token for r in Role}
    app = create_app([topics_router(service, authenticator(database, directory).guard(LEADS, "operators"))])
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://hotline") as client:
        yield client, made
    database.dispose()


async def test_a_shift_lead_reads_the_live_topics_with_their_names(
    tokens: tuple[httpx.AsyncClient, dict[Role, str]],
) -> None:
    client, made = tokens
    answer = await client.get("/api/topics", headers={"Authorization": f"Bearer {made[Role.SHIFT_LEAD]}"})
    assert answer.status_code == 200
    demo = from_yaml((ROOT / "hotline-ivr.yaml").read_text())
    assert answer.json() == [{"id": t.id, "names": dict(t.names), "queue": t.queue} for t in demo.topics]
    crisis = answer.json()[0]
    assert crisis["names"]["ru"] == "Кризис и суицидальные мысли" and crisis["queue"] == "crisis"


async def test_an_operator_may_not_read_them(tokens: tuple[httpx.AsyncClient, dict[Role, str]]) -> None:
    client, made = tokens
    answer = await client.get("/api/topics", headers={"Authorization": f"Bearer {made[Role.OPERATOR]}"})
    assert answer.status_code == 403
