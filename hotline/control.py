"""The operator's call control (desk/control.py), wired to what it tells: the call's record (the
assembler), the wallboard's emergency alert, the log of every use (desk/actions.py)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from desk.actions import DeskLog
from desk.control import Action, AmiSender, CallControl, DeskAction
from ivr.document import IvrDocument
from ivr.service import IvrService
from metrics.records.assembler import CallAssembler
from wallboard.service import Wallboard


def call_control(
    nodes: Sequence[AmiSender],
    ivr: IvrService,
    assembler: CallAssembler,
    wallboard: Wallboard,
    engine: Engine,
) -> CallControl:
    def acted(done: DeskAction) -> None:
        assembler.handed_on(done.call, done.action.value)
        if done.action is Action.EMERGENCY:
            wallboard.on_emergency(done.operator, done.by, done.at, done.queue, done.topic)

    def document() -> IvrDocument:
        return ivr.engine().document

    return CallControl(nodes, document, assembler.topic_of, DeskLog(engine).add, [acted])
