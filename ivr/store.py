"""IVR versions in the database. Publishing is one transaction: the new version and its
activation are written together or not at all."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from core.orm import stored_utc
from ivr.models import IvrActivationRow, IvrDraftRow, IvrVersionRow

PromptPaths = dict[tuple[str, str], str]


@dataclass(frozen=True)
class StoredVersion:
    number: int
    document: str  # JSON
    prompt_paths: PromptPaths
    checksum: str
    created_at: datetime
    author: str
    note: str
    yaml_text: str | None = None  # as the admin wrote it; None: render the document


@dataclass(frozen=True)
class Activation:
    version: int
    activated_at: datetime
    action: str
    author: str


@dataclass(frozen=True)
class Draft:
    document: str  # JSON
    updated_at: datetime
    based_on: int | None
    yaml_text: str | None = None  # as the admin wrote it; None: render the document


def checksum(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def _version(row: IvrVersionRow) -> StoredVersion:
    paths = {(p, lang): path for p, lang, path in json.loads(row.prompt_paths)}
    return StoredVersion(
        row.number,
        row.document,
        paths,
        row.checksum,
        stored_utc(row.created_at),
        row.author,
        row.note,
        row.yaml_text,
    )


class IvrStore:
    def __init__(self, engine: Engine) -> None:
        self._engine = engine

    def publish(
        self,
        document: str,
        prompt_paths: PromptPaths,
        author: str,
        note: str,
        at: datetime,
        yaml_text: str | None = None,
    ) -> int:
        """Write a new version (with the YAML text it was written as) and make it live,
        atomically; returns its number."""
        paths = json.dumps(sorted([p, lang, path] for (p, lang), path in prompt_paths.items()))
        with Session(self._engine) as session, session.begin():
            number = (session.scalar(select(func.max(IvrVersionRow.number))) or 0) + 1
            session.add(
                IvrVersionRow(
                    number=number,
                    document=document,
                    prompt_paths=paths,
                    checksum=checksum(document),
                    created_at=at,
                    author=author,
                    note=note,
                    yaml_text=yaml_text,
                )
            )
            session.flush()
            session.add(IvrActivationRow(version=number, activated_at=at, action="publish", author=author))
            draft = session.get(IvrDraftRow, 1)
            if draft is not None and draft.document == document:  # not edited meanwhile
                draft.based_on = number
        return number

    def activate(self, number: int, author: str, at: datetime, action: str = "rollback") -> None:
        with Session(self._engine) as session, session.begin():
            if session.get(IvrVersionRow, number) is None:
                raise KeyError(number)
            session.add(IvrActivationRow(version=number, activated_at=at, action=action, author=author))

    def active_number(self) -> int | None:
        with Session(self._engine) as session:
            query = select(IvrActivationRow.version).order_by(IvrActivationRow.id.desc()).limit(1)
            return session.scalar(query)

    def version(self, number: int) -> StoredVersion | None:
        with Session(self._engine) as session:
            row = session.get(IvrVersionRow, number)
            return _version(row) if row else None

    def versions(self) -> list[StoredVersion]:
        with Session(self._engine) as session:
            rows = session.scalars(select(IvrVersionRow).order_by(IvrVersionRow.number)).all()
            return [_version(r) for r in rows]

    def activations(self) -> list[Activation]:
        with Session(self._engine) as session:
            rows = session.scalars(select(IvrActivationRow).order_by(IvrActivationRow.id)).all()
            return [Activation(r.version, stored_utc(r.activated_at), r.action, r.author) for r in rows]

    def draft(self) -> Draft | None:
        with Session(self._engine) as session:
            row = session.get(IvrDraftRow, 1)
            if row is None:
                return None
            return Draft(row.document, stored_utc(row.updated_at), row.based_on, row.yaml_text)

    def save_draft(
        self, document: str, at: datetime, based_on: int | None, yaml_text: str | None = None
    ) -> None:
        """``yaml_text``: the draft as the admin's YAML (kept for the YAML view); None: none."""
        with Session(self._engine) as session, session.begin():
            row = session.get(IvrDraftRow, 1)
            if row is None:
                row = IvrDraftRow(id=1)
                session.add(row)
            row.document, row.updated_at, row.based_on, row.yaml_text = document, at, based_on, yaml_text
