"""Read rendered Asterisk configuration back (pyst2's parser) and check the privacy-critical
settings before Asterisk ever loads it."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from asterisk.config import Config, ParseError


class ConfigCheckError(ValueError):
    """A rendered file is unreadable or unsafe; the message names the file and the setting."""


Sections = dict[str, list[tuple[str, str]]]


def read(path: Path) -> Sections:
    """Section name -> (key, value) pairs in order; repeated sections are merged."""
    try:
        config = Config(str(path))
    except ParseError as exc:
        raise ConfigCheckError(f"{path.name}: cannot be parsed: {exc}") from exc
    sections: Sections = {}
    for category in config.categories:
        items = sections.setdefault(category.name, [])
        # pyst2 keeps the space after '=' (and '=>'): strip both sides.
        items.extend(
            (item.name.strip(), (item.value or "").strip().lstrip(">").strip()) for item in category.items
        )
    return sections


def _value(sections: Sections, section: str, key: str) -> str | None:
    return next((v for k, v in sections.get(section, []) if k == key), None)


def _require(sections: Sections, file: str, section: str, key: str, allowed: Iterable[str]) -> None:
    value = _value(sections, section, key)
    if value not in set(allowed):
        raise ConfigCheckError(f"{file}: [{section}] {key} must be one of {sorted(allowed)}, is {value!r}")


def check(directory: Path, queues: Iterable[str]) -> None:
    """Raise ConfigCheckError unless the rendered files keep caller numbers off disk."""
    _require(read(directory / "cdr.conf"), "cdr.conf", "general", "enable", {"no"})
    _require(read(directory / "cel.conf"), "cel.conf", "general", "enable", {"no"})
    logger = read(directory / "logger.conf")
    _require(logger, "logger.conf", "general", "queue_log", {"no"})
    for key, levels in logger.get("logfiles", []):
        if "verbose" in levels or "debug" in levels or "dtmf" in levels:
            raise ConfigCheckError(f"logger.conf: {key} logs {levels!r}, which carry caller ids")
    loaded = [v for k, v in read(directory / "modules.conf").get("modules", []) if k == "load"]
    risky = [m for m in loaded if m.startswith(("cdr_", "cel_"))]
    if risky:
        raise ConfigCheckError(f"modules.conf: loads {risky}, which write call details to disk")
    rendered = set(read(directory / "queues.conf")) - {"general"}
    missing = set(queues) - rendered
    if missing:
        raise ConfigCheckError(f"queues.conf: no section for queues {sorted(missing)}")
