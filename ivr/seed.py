"""The IVR document a new install starts from: ``hotline-ivr.yaml``, shipped with the package."""

from __future__ import annotations

from pathlib import Path
from typing import Final

from core.shipped import shipped

SHIPPED_SEED: Final = shipped(Path(__file__).resolve().parent, "hotline-ivr.yaml")


def seed_file(configured: Path | None) -> Path:
    """The seed the settings name (``ivr_seed``), else the shipped one."""
    return SHIPPED_SEED if configured is None else configured
