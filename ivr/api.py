"""HTTP API of the IVR room: the draft, validation, publish, versions, rollback, simulate,
prompt recordings (admin), the referral directory (readable by operators), and the live topics'
names (for the operators page)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

from fastapi import APIRouter, Body, Depends, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import PlainTextResponse

from core.audit import note
from core.bounds import MAX_ID
from core.errors import DomainError, problems
from core.types import Guard
from ivr.codec import DocumentError, check_size, from_data, json_schema, to_data, to_yaml
from ivr.prompts import PromptError
from ivr.referrals import ReferralQuery, search
from ivr.schemas import (
    DraftPublic,
    IssuesPublic,
    PublishedPublic,
    PublishRequest,
    ReferralPublic,
    RollbackRequest,
    RoutePublic,
    SilencePublic,
    SimulateRequest,
    SimulationPublic,
    TopicPublic,
    VersionPublic,
)
from ivr.service import (
    DraftInvalid,
    IvrService,
    NotFound,
    PublishConflict,
    PublishRefused,
    UnknownVersion,
    UploadTooLarge,
)
from ivr.store import IvrStore

SLUG = r"^[a-z][a-z0-9_-]{0,39}$"  # as ivr/document.py spells a slug and a language
LANGUAGE = r"^[a-z]{2,3}$"
Section = Literal["topics", "schedules", "referrals", "queues", "prompts", "nodes"]
MAX_UPLOAD = 20 * 1024 * 1024


@runtime_checkable
class _Named(Protocol):
    name: str


def _author(who: object) -> str:
    """A version's author: who signed in (the router's guard, run once per request), never
    what the body says."""
    return who.name if isinstance(who, _Named) else "admin"


def ivr_router(
    service: IvrService,
    store: IvrStore,
    require_admin: Guard,
    apply_errors: Sequence[type[DomainError]] = (),
) -> APIRouter:
    """``apply_errors``: what the service's ``apply_asterisk`` may raise (it lives in a room
    above this one), declared on the routes that publish."""
    router = APIRouter(prefix="/api/ivr", tags=["ivr"], dependencies=[Depends(require_admin)])

    @router.get("/draft", response_model=DraftPublic)
    async def get_draft() -> DraftPublic:
        doc = await service.draft()
        draft = await asyncio.to_thread(store.draft)
        found, by_node = await service.examine(doc)
        silence = None
        if by_node is not None:
            limit = doc.silence_limit_seconds
            silence = SilencePublic(limit=limit, seconds=by_node[doc.menu.entry], by_node=by_node)
        return DraftPublic(
            document=to_data(doc),
            based_on=draft.based_on if draft else None,
            silence=silence,
            **IssuesPublic.of(found).model_dump(),
        )

    schema = json_schema()  # the body's shape in the OpenAPI document; parsed off the loop below

    @router.put(
        "/draft",
        response_model=IssuesPublic,
        responses=problems(DocumentError),
        openapi_extra={"requestBody": {"content": {"application/json": {"schema": schema}}}},
    )
    async def put_draft(document: Annotated[dict[str, Any], Body()]) -> IssuesPublic:
        return IssuesPublic.of(await service.replace_draft(await asyncio.to_thread(from_data, document)))

    @router.get("/draft/yaml", response_class=PlainTextResponse)
    async def get_draft_yaml() -> str:
        """The admin's own text, comments and all (edits item by item follow it)."""
        return await service.draft_yaml()

    @router.put("/draft/yaml", response_model=IssuesPublic, responses=problems(DocumentError))
    async def put_draft_yaml(request: Request) -> IssuesPublic:
        body = await request.body()
        check_size(len(body))
        return IssuesPublic.of(await service.save_yaml(body.decode("utf-8", errors="replace")))

    @router.put("/draft/{section}/{item_id}", response_model=IssuesPublic, responses=problems(DocumentError))
    async def put_item(
        section: Section, item_id: str, value: Annotated[dict[str, Any], Body()]
    ) -> IssuesPublic:
        return IssuesPublic.of(await service.edit_draft(section, item_id, value))

    @router.delete("/draft/{section}/{item_id}", response_model=IssuesPublic, responses=problems(NotFound))
    async def delete_item(section: Section, item_id: str) -> IssuesPublic:
        return IssuesPublic.of(await service.edit_draft(section, item_id, None))

    @router.post("/validate", response_model=IssuesPublic)
    async def validate_draft() -> IssuesPublic:
        return IssuesPublic.of((await service.examine(await service.draft()))[0])  # real audio

    @router.post(
        "/publish",
        response_model=PublishedPublic,
        responses=problems(PublishRefused, PublishConflict, *apply_errors),
    )
    async def publish(
        request: PublishRequest, http: Request, who: object = Depends(require_admin)
    ) -> PublishedPublic:
        version = await service.publish(_author(who), request.note)
        note(http, version=version)
        return PublishedPublic(version=version)

    @router.post(
        "/rollback", response_model=PublishedPublic, responses=problems(UnknownVersion, *apply_errors)
    )
    async def rollback(
        request: RollbackRequest, http: Request, who: object = Depends(require_admin)
    ) -> PublishedPublic:
        note(http, version=request.version)
        await service.rollback(request.version, _author(who))
        return PublishedPublic(version=request.version)

    @router.get("/versions", response_model=list[VersionPublic])
    async def versions() -> list[VersionPublic]:
        stored, active = await asyncio.gather(
            asyncio.to_thread(store.versions), asyncio.to_thread(store.active_number)
        )
        return [
            VersionPublic(
                number=v.number,
                created_at=v.created_at,
                author=v.author,
                note=v.note,
                checksum=v.checksum,
                active=v.number == active,
            )
            for v in stored
        ]

    @router.get("/versions/{number}/yaml", response_class=PlainTextResponse, responses=problems(NotFound))
    async def version_yaml(number: str) -> str:
        wanted = await asyncio.to_thread(store.active_number) if number == "active" else _int(number)
        stored = await asyncio.to_thread(store.version, wanted) if wanted is not None else None
        if stored is None:
            raise NotFound(f"version {number} does not exist")
        if stored.yaml_text is not None:
            return stored.yaml_text  # as it was written, comments and all
        return await asyncio.to_thread(lambda: to_yaml(from_data(json.loads(stored.document))))

    @router.post("/simulate", response_model=SimulationPublic, responses=problems(DraftInvalid))
    async def simulate(request: SimulateRequest) -> SimulationPublic:
        at = request.at or datetime.now(UTC)
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        doc = await service.draft() if request.draft else None
        result = await asyncio.to_thread(service.simulate, request.keys, at, request.language, doc)
        return SimulationPublic(
            version=result.version,
            steps=result.steps,
            route=RoutePublic.of(result.route) if result.route else None,
            waiting_at=result.waiting.node if result.waiting else None,
            announce_texts=result.announce_texts,
        )

    @router.put(
        "/prompts/{prompt_id}/{language}/recording",
        response_model=IssuesPublic,
        responses=problems(UploadTooLarge, PromptError),
    )
    async def upload_recording(
        prompt_id: str,
        language: str,
        request: Request,
        x_filename: Annotated[str, Header()] = "recording.wav",
    ) -> IssuesPublic:
        data = await _read_capped(request, f"prompt '{prompt_id}' ({language}): recording larger than 20 MB")
        return IssuesPublic.of(await service.upload_recording(prompt_id, language, data, x_filename))

    return router


def referrals_router(service: IvrService, guard: Guard) -> APIRouter:
    """The referral directory of the live document, searched by operators during a call
    (``guard``: every role with a token of its own, and the admin)."""
    router = APIRouter(prefix="/api", tags=["referrals"], dependencies=[Depends(guard)])

    @router.get("/referrals", response_model=list[ReferralPublic])
    async def referrals(
        topic: Annotated[str | None, Query(pattern=SLUG, description="a topic the referral lists")] = None,
        language: Annotated[
            str | None, Query(pattern=LANGUAGE, description="an ISO 639 code spoken there (ru, en, uk)")
        ] = None,
        q: Annotated[
            str | None,
            Query(max_length=100, description="words in the organisation, description or region (any case)"),
        ] = None,
        open_now: Annotated[
            bool | None, Query(description="true: open now (by the referral's hours); false: closed now")
        ] = None,
    ) -> list[ReferralPublic]:
        doc = service.engine().document
        if topic is not None and doc.topic(topic) is None:
            raise RequestValidationError(
                [{"type": "value_error", "loc": ("query", "topic"), "msg": f"topic '{topic}' does not exist"}]
            )
        query = ReferralQuery(topic, language, (q or "").strip() or None, open_now)
        return [ReferralPublic.of(f.referral, f.open_now) for f in search(doc, query, service.now())]

    return router


def topics_router(service: IvrService, guard: Guard) -> APIRouter:
    """The live document's topics, each with its names and queue, for the pages that show or
    set operators' skills (``guard``: who may read the operator list; the draft stays the
    admins')."""
    router = APIRouter(prefix="/api", tags=["topics"], dependencies=[Depends(guard)])

    @router.get("/topics", response_model=list[TopicPublic])
    async def topics() -> list[TopicPublic]:
        return [TopicPublic.of(t) for t in service.engine().document.topics]

    return router


async def _read_capped(request: Request, refusal: str) -> bytes:
    """The body, read as it arrives: refused once it passes MAX_UPLOAD, never held whole."""
    announced = request.headers.get("content-length", "")
    if announced.isdigit() and int(announced) > MAX_UPLOAD:
        raise UploadTooLarge(refusal)
    parts: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_UPLOAD:
            raise UploadTooLarge(refusal)
        parts.append(chunk)
    return b"".join(parts)


def _int(text: str) -> int | None:
    return int(text) if text.isdigit() and int(text) <= MAX_ID else None
