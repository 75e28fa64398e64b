"""HTTP API for the IVR editor page (issue 19), beside ivr/api.py: the draft's changes against
the live version, and a prompt's audio to listen to. Admins only, as the rest of /api/ivr."""

from __future__ import annotations

import asyncio
import json
from dataclasses import asdict
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from core.errors import problems
from core.types import Guard
from ivr.codec import from_data, to_data, to_yaml
from ivr.diff import changes, unified
from ivr.document import IvrDocument
from ivr.listen import prompt_audio
from ivr.prompts import PromptError
from ivr.schemas import ChangePublic, DiffPublic
from ivr.service import IvrService, NotFound
from ivr.store import IvrStore, StoredVersion

WAV = "audio/wav"
AUDIO: dict[int | str, dict[str, Any]] = {200: {"content": {WAV: {}}, "description": "the prompt as WAV"}}


def editor_router(service: IvrService, store: IvrStore, require_admin: Guard) -> APIRouter:
    router = APIRouter(prefix="/api/ivr", tags=["ivr"], dependencies=[Depends(require_admin)])

    @router.get("/diff", response_model=DiffPublic)
    async def diff() -> DiffPublic:
        """What publishing the draft would change: item by item, and as a unified diff of the
        two YAML texts (the admin's own where kept)."""
        number = await asyncio.to_thread(store.active_number)
        live = await asyncio.to_thread(store.version, number) if number is not None else None
        doc, text = await service.draft_and_text()
        return await asyncio.to_thread(_diff, live, doc, text)

    @router.get(
        "/prompts/{prompt_id}/{language}/audio",
        response_class=Response,
        responses={**AUDIO, **problems(NotFound, PromptError)},
    )
    async def audio(
        prompt_id: str,
        language: str,
        source: Annotated[
            Literal["draft", "active"], Query(description="the draft's prompt or the live version's")
        ] = "draft",
    ) -> Response:
        """The prompt's recording, else its text as the TTS voice of its language says it."""
        doc = await service.draft() if source == "draft" else service.engine().document
        wav = await asyncio.to_thread(prompt_audio, service.studio, doc, prompt_id, language)
        return Response(wav, media_type=WAV, headers={"Cache-Control": "no-store"})

    return router


def _diff(live: StoredVersion | None, doc: IvrDocument, text: str | None) -> DiffPublic:
    """CPU-bound (two documents' data, maybe two YAML renderings): off the event loop."""
    before = to_data(from_data(json.loads(live.document))) if live else {}
    old_text = (live.yaml_text or to_yaml(from_data(before))) if live else ""
    new_text = text if text is not None else to_yaml(doc)
    found = changes(before, to_data(doc))
    return DiffPublic(
        against=live.number if live else None,
        changes=[ChangePublic.model_validate(asdict(c)) for c in found],
        unified=unified(old_text, new_text, f"version {live.number}" if live else "nothing live"),
    )
