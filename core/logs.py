"""Logging: our own messages only. Libraries that print raw AMI events or AGI headers
(panoramisk at DEBUG/INFO) are held at WARNING, whatever the configured level."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from core.files import private_dir, private_file

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
QUIET = ("panoramisk", "asyncio", "uvicorn.access", "alembic")


def setup(level: str, log_file: Path | None = None) -> None:
    handlers: list[logging.Handler] = [logging.StreamHandler(sys.stderr)]
    if log_file is not None:
        private_dir(log_file.parent)
        private_file(log_file)  # 0600 before the handler opens it (its mode would follow the umask)
        handlers.append(logging.FileHandler(log_file, encoding="utf-8"))
    logging.basicConfig(level=level.upper(), format=FORMAT, handlers=handlers, force=True)
    for name in QUIET:
        logging.getLogger(name).setLevel(logging.WARNING)
