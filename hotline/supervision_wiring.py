"""Supervision (supervision/), wired to what it needs: the AMI nodes, the calls operators talk in
(the desk's call control follows them), its record, the line's setting, the operators' roles."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Engine

from agents.directory import OperatorDirectory, Role
from core.settings import Settings
from core.tasks import TaskSupervisor
from desk.control import AmiSender, CallControl
from supervision.codes import SupervisionCodes
from supervision.service import Supervision
from supervision.store import SupervisionStore


def supervision(
    settings: Settings,
    nodes: Sequence[AmiSender],
    control: CallControl,
    engine: Engine,
    tasks: TaskSupervisor,
) -> Supervision:
    notify = settings.supervision.notify_operator
    return Supervision(nodes, control.seat, SupervisionStore(engine), notify_operator=notify, tasks=tasks)


def supervision_codes(service: Supervision, directory: OperatorDirectory) -> SupervisionCodes:
    def role_of(operator: str) -> Role:
        return directory.get(operator).role

    return SupervisionCodes(service, role_of)
