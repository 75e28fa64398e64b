"""Data files that rooms ship beside their code: the Asterisk templates (dialplan/) and the seed
IVR (ivr/).

The repository keeps them at its top level, where people look for them (``asterisk-config/``,
``hotline-ivr.yaml``); the wheel carries them inside the room's package (setup.py copies them
there when it builds). :func:`shipped` finds either: the copy inside the package on an installed
system, else the file at the top of the source checkout.
"""

from __future__ import annotations

from pathlib import Path


def shipped(package_dir: Path, name: str) -> Path:
    """``package_dir/name`` when the package carries it (installed), else ``name`` beside the
    package (a source checkout, the package being one of the repository's top-level folders)."""
    inside = package_dir / name
    return inside if inside.exists() else package_dir.parent / name
