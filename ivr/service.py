"""Administering the IVR: edit a draft, validate, publish atomically, roll back, simulate.

Publishing order: validate -> produce prompt audio -> render and reload Asterisk -> write the
version and its activation in one transaction -> swap the engine new calls get. A failure at
any step leaves the live version untouched. Calls already in the IVR keep the engine they
started with (they hold a reference to it), so they finish on their version.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.exc import IntegrityError

from core.errors import DomainError
from ivr.codec import from_data, from_yaml, to_data, to_yaml
from ivr.document import ANNOUNCE_PREFIX, CORE_PREFIX, IvrDocument
from ivr.engine import Ask, Engine, Route
from ivr.issues import Issue, issue_details
from ivr.prompts import PromptError, PromptStudio
from ivr.seed import seed_file
from ivr.silence import SILENCE_PROBLEM, rendered, silent_seconds_by_node
from ivr.store import IvrStore, PromptPaths
from ivr.validation import validate
from ivr.yaml_text import updated

log = logging.getLogger("hotline.ivr")
ApplyAsterisk = Callable[[IvrDocument], Awaitable[None]]
Change = Callable[[dict[str, Any]], dict[str, Any] | None]  # in place, or the new data


class IvrError(DomainError):
    error_id = "ivr_error"
    status = 400

    def __init__(self, message: str, issues: list[Issue] | None = None) -> None:
        super().__init__(message, issue_details(issues or []))
        self.issues = issues or []


class PublishRefused(IvrError):
    error_id = "ivr_publish_refused"
    status = 422


class PublishConflict(IvrError):
    error_id = "ivr_publish_conflict"
    status = 409


class DraftInvalid(IvrError):
    """A draft that would not pass validation cannot be walked either."""

    error_id = "ivr_draft_invalid"
    status = 422


class UnknownVersion(IvrError):
    error_id = "ivr_unknown_version"
    status = 404


class NotFound(IvrError):
    error_id = "ivr_not_found"
    status = 404


class UploadTooLarge(IvrError):
    error_id = "ivr_upload_too_large"
    status = 413


def _now() -> datetime:
    return datetime.now(UTC)


def _dumps(doc: IvrDocument) -> str:
    return json.dumps(to_data(doc), ensure_ascii=False, sort_keys=True)


def _loads(text: str) -> IvrDocument:
    return from_data(json.loads(text))


def _changed(old: IvrDocument, text: str | None, change: Change) -> tuple[IvrDocument, str | None]:
    """The draft once changed, and its kept YAML text following it (a ruamel.yaml round trip,
    ivr/yaml_text.py; None: the YAML view renders the document). CPU-bound: off the loop."""
    data = to_data(old)
    data = change(data) or data
    return from_data(data), updated(text, to_data(old), data) if text is not None else None


@dataclass(frozen=True)
class Simulation:
    version: int | None
    steps: list[dict[str, Any]] = field(default_factory=list)
    route: Route | None = None
    waiting: Ask | None = None
    announce_texts: list[str | None] = field(default_factory=list)  # the route's, as text


class IvrService:
    def __init__(
        self,
        store: IvrStore,
        studio: PromptStudio,
        apply_asterisk: ApplyAsterisk,
        asterisk_prompts_dir: Path,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._store = store
        self._studio = studio
        self._apply = apply_asterisk
        self._asterisk_dir = asterisk_prompts_dir
        self._clock = clock
        self._lock = asyncio.Lock()
        self._edit_lock = asyncio.Lock()
        self._engine: Engine | None = None

    # -- the live engine ----------------------------------------------------------------------
    def now(self) -> datetime:
        """The service's clock (UTC): what "open now" is asked at."""
        return self._clock()

    @property
    def studio(self) -> PromptStudio:
        return self._studio

    def engine(self) -> Engine:
        if self._engine is None:
            raise IvrError("no IVR version is active yet")
        return self._engine

    async def start(self, seed: Path | None) -> None:
        """Load the live version; on a fresh database publish the seed file (None: the shipped
        one) as version 1."""
        if await asyncio.to_thread(self._store.active_number) is None:
            seed = seed_file(seed)
            text = await asyncio.to_thread(seed.read_text, encoding="utf-8")
            await self.save_draft(await asyncio.to_thread(from_yaml, text), text)  # its comments too
            number = await self.publish(author="seed", note=f"imported from {seed.name}")
            log.info("IVR seeded from %s as version %d", seed.name, number)
        await self.refresh()
        if await asyncio.to_thread(self._store.draft) is None:
            stored = await asyncio.to_thread(self._store.version, self.engine().version)
            await self.save_draft(self.engine().document, stored.yaml_text if stored else None)

    async def refresh(self) -> bool:
        """Follow the live version (another process may have published); True if it changed."""
        number = await asyncio.to_thread(self._store.active_number)
        if number is None or (self._engine and self._engine.version == number):
            return False
        stored = await asyncio.to_thread(self._store.version, number)
        assert stored is not None
        self._engine = Engine(number, await asyncio.to_thread(_loads, stored.document), stored.prompt_paths)
        log.info("IVR version %d is live", number)
        return True

    # -- the draft ----------------------------------------------------------------------------
    async def draft(self) -> IvrDocument:
        draft = await asyncio.to_thread(self._store.draft)
        if draft is None:
            return self.engine().document
        return await asyncio.to_thread(_loads, draft.document)

    async def draft_yaml(self) -> str:
        """The draft as YAML: the admin's text as kept (comments and all), else rendered."""
        doc, text = await self.draft_and_text()
        return text if text is not None else await asyncio.to_thread(to_yaml, doc)

    async def draft_and_text(self) -> tuple[IvrDocument, str | None]:
        """The draft and its kept YAML text (None: none kept, render the document)."""
        draft = await asyncio.to_thread(self._store.draft)
        if draft is None:
            return self.engine().document, None
        return await asyncio.to_thread(_loads, draft.document), draft.yaml_text

    async def save_draft(self, doc: IvrDocument, yaml_text: str | None = None) -> list[Issue]:
        """Drafts may be invalid; the issues are returned, publishing refuses them.
        ``yaml_text``: the YAML ``doc`` was read from, kept for the YAML view."""
        based_on = self._engine.version if self._engine else None
        text = await asyncio.to_thread(_dumps, doc)
        await asyncio.to_thread(self._store.save_draft, text, self._clock(), based_on, yaml_text)
        return await asyncio.to_thread(validate, doc, rendered(doc, self._studio))  # real lengths

    async def examine(self, doc: IvrDocument) -> tuple[list[Issue], dict[str, float] | None]:
        """The problems (with the prompts' real lengths) and, if none stops a walk, how long a
        silent caller takes from each node (the entry's figure is the one the limit checks)."""
        return await asyncio.to_thread(_examine, doc, self._studio)

    async def save_yaml(self, text: str) -> list[Issue]:
        """The draft as the admin wrote it in YAML; the text is kept as sent."""
        return await self.save_draft(await asyncio.to_thread(from_yaml, text), text)

    async def replace_draft(self, doc: IvrDocument) -> list[Issue]:
        """The whole draft anew (from JSON); the kept YAML text changes where the document did."""
        async with self._edit_lock:
            return await self._change_draft(lambda _: to_data(doc))

    async def edit_draft(self, section: str, item_id: str, value: dict[str, Any] | None) -> list[Issue]:
        """Replace (or with None delete) one topic, schedule, referral, queue, prompt or node."""
        async with self._edit_lock:  # read-modify-write: two admins' edits must not lose one
            return await self._change_draft(lambda data: _edit(data, section, item_id, value))

    async def _change_draft(self, change: Change) -> list[Issue]:
        old, text = await self.draft_and_text()
        doc, text = await asyncio.to_thread(_changed, old, text, change)
        return await self.save_draft(doc, text)

    # -- publish and roll back ---------------------------------------------------------------
    async def publish(self, author: str, note: str = "") -> int:
        async with self._lock:
            doc, text = await self.draft_and_text()
            issues = await asyncio.to_thread(validate, doc, rendered(doc, self._studio))
            if issues:
                raise PublishRefused(f"the draft has {len(issues)} problem(s)", issues)
            paths = await asyncio.to_thread(self._produce_prompts, doc)
            await self._apply(doc)
            try:
                number = await asyncio.to_thread(
                    self._store.publish, _dumps(doc), paths, author, note, self._clock(), text
                )
            except IntegrityError as exc:
                raise PublishConflict("another publish took this version number; publish again") from exc
            self._engine = Engine(number, doc, paths)
            log.info("IVR version %d published by %s", number, author)
            return number

    async def rollback(self, number: int, author: str) -> None:
        async with self._lock:
            stored = await asyncio.to_thread(self._store.version, number)
            if stored is None:
                raise UnknownVersion(f"version {number} does not exist")
            doc = await asyncio.to_thread(_loads, stored.document)
            await asyncio.to_thread(self._link_announcements, doc, stored.prompt_paths)
            await self._apply(doc)
            await asyncio.to_thread(self._store.activate, number, author, self._clock())
            self._engine = Engine(number, doc, stored.prompt_paths)
            log.info("IVR rolled back to version %d by %s", number, author)

    def _link_announcements(self, doc: IvrDocument, paths: PromptPaths) -> None:
        """Queue announcements are named once in queues.conf for every language: each language's
        audio of the live version is copied to ``<dir>/<language>/queue-announce-<prompt>.wav``."""
        for queue in doc.queues:
            prompt = queue.announcements.periodic_prompt
            if prompt is None or prompt.startswith(CORE_PREFIX):
                continue
            for lang in doc.languages:
                source = self._studio.directory / Path(paths[(prompt, lang)]).relative_to(self._asterisk_dir)
                target = self._studio.directory / lang / f"{ANNOUNCE_PREFIX}{prompt}.wav"
                tmp = target.with_suffix(".tmp")
                shutil.copyfile(source.with_name(source.name + ".wav"), tmp)
                os.replace(tmp, target)

    def _produce_prompts(self, doc: IvrDocument) -> PromptPaths:
        paths: PromptPaths = {}
        issues: list[Issue] = []
        for prompt_id, sources in doc.prompts.items():
            for lang, source in sources.items():
                try:
                    paths[(prompt_id, lang)] = self._prompt_path(
                        prompt_id, lang, source.text, source.recording
                    )
                except PromptError as exc:
                    issues.append(Issue(f"prompt {prompt_id} ({lang})", exc.problem))
        if issues:
            raise PublishRefused("prompt audio could not be produced", issues)
        self._link_announcements(doc, paths)
        return paths

    def _prompt_path(self, prompt_id: str, lang: str, text: str | None, recording: str | None) -> str:
        if text is not None:
            file = self._studio.synthesize(prompt_id, lang, text).path
        else:
            assert recording is not None
            file = self._studio.path_for(prompt_id, lang, recording)
            if not file.with_suffix(".wav").exists():
                raise PromptError(prompt_id, lang, f"recording {recording[:12]} was never uploaded")
        return str(self._asterisk_dir / file.relative_to(self._studio.directory))

    async def upload_recording(self, prompt_id: str, lang: str, data: bytes, filename: str) -> list[Issue]:
        file = await asyncio.to_thread(self._studio.accept_upload, prompt_id, lang, data, filename)

        def record(data: dict[str, Any]) -> None:
            data.setdefault("prompts", {}).setdefault(prompt_id, {})[lang] = {"recording": file.sha256}

        async with self._edit_lock:
            return await self._change_draft(record)

    # -- simulate -----------------------------------------------------------------------------
    def simulate(
        self,
        keys: list[str],
        at: datetime,
        language: str | None = None,
        doc: IvrDocument | None = None,
    ) -> Simulation:
        """Walk the menu with these keys ('' = silence) at this time; no call needed."""
        if doc is None:
            engine = self.engine()
        else:
            issues = validate(doc)
            if issues:
                raise DraftInvalid(f"the draft has {len(issues)} problem(s); simulate it once fixed", issues)
            labels = {(p, lang): f"{lang}/{p}" for p, by_lang in doc.prompts.items() for lang in by_lang}
            engine = Engine(0, doc, labels)
        walk = engine.walk(at, language)
        step: Ask | Route = walk.start()
        steps: list[dict[str, Any]] = []
        said = {path: played for played, path in engine.prompt_paths.items()}
        for key in keys:
            if isinstance(step, Route):
                break
            steps.append(
                {
                    "node": step.node,
                    "prompts": list(step.prompts),
                    "prompt_ids": [said.get(p, (None, ""))[0] for p in step.prompts],
                    "texts": _texts(engine.document, said, step.prompts),  # what the caller hears
                    "language": step.language,
                    "pressed": key,
                }
            )
            step = walk.answer(key)
        version = engine.version if doc is None else None
        if isinstance(step, Route):
            return Simulation(
                version, steps, route=step, announce_texts=_texts(engine.document, said, step.announce)
            )
        return Simulation(version, steps, waiting=step)


def _texts(doc: IvrDocument, said: dict[str, tuple[str, str]], played: Sequence[str]) -> list[str | None]:
    """The text of each prompt played, in the language it is played in; None for a recording
    or one of Asterisk's own sounds."""
    sources = [doc.prompts.get(p, {}).get(lang) for p, lang in (said.get(path, ("", "")) for path in played)]
    return [s.text if s else None for s in sources]


_SECTIONS = {"topics": "id", "schedules": "id", "referrals": "id", "queues": "name"}


def _edit(data: dict[str, Any], section: str, item_id: str, value: dict[str, Any] | None) -> None:
    if section in _SECTIONS:
        key = _SECTIONS[section]
        item = None if value is None else {key: item_id, **{k: v for k, v in value.items() if k != key}}
        items: list[dict[str, Any]] = data.get(section, [])
        at = next((n for n, i in enumerate(items) if i.get(key) == item_id), None)
        if at is None:
            if item is None:
                raise NotFound(f"{section[:-1]} '{item_id}' does not exist")
            items.append(item)
        elif item is None:
            del items[at]
        else:
            items[at] = item  # in its place: the order stays the admin's
        data[section] = items
    elif section in ("prompts", "nodes"):
        table = data["prompts"] if section == "prompts" else data["menu"]["nodes"]
        if value is None and table.pop(item_id, None) is None:
            raise NotFound(f"{section[:-1]} '{item_id}' does not exist")
        if value is not None:
            table[item_id] = value
    else:
        raise NotFound(f"unknown section '{section}'")


def _examine(doc: IvrDocument, studio: PromptStudio) -> tuple[list[Issue], dict[str, float] | None]:
    durations = rendered(doc, studio)
    issues = validate(doc, durations)
    walkable = not issues or all(i.problem.startswith(SILENCE_PROBLEM) for i in issues)
    return issues, silent_seconds_by_node(doc, durations) if walkable else None
