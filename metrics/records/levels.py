"""Service levels: each queue's answer threshold and target, shared by the record store (the
cells keep answers within each threshold), reports and the live boards."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ServiceLevels:
    """Each queue's threshold T (seconds, from the IVR document) and target (share answered
    within T, from the settings); the defaults serve queues neither names."""

    thresholds: Mapping[str, float]
    targets: Mapping[str, float] = field(default_factory=dict)
    default_seconds: float = 20.0
    default_target: float = 0.8

    def threshold(self, queue: str) -> float:
        return self.thresholds.get(queue, self.default_seconds)

    def target(self, queue: str) -> float:
        return self.targets.get(queue, self.default_target)
