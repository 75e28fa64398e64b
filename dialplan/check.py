"""Read rendered Asterisk configuration back (pyst2's parser) and check the privacy-critical
settings before Asterisk ever loads it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
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


# -- structure: what Asterisk will read, line by line --------------------------------------------
# One item per meaningful line: ("section", name, options), ("entry", key, value),
# ("directive", text, "") for #include/#exec, ("line", text, "") for anything else.
Item = tuple[str, str, str]
_SECTION = re.compile(r"\[([^\]]*)\](?:\(([^)]*)\))?")
_ENTRY = re.compile(r"([^=]+?)\s*=>?\s*(.*)")


def _uncomment(line: str, in_block: bool) -> tuple[str, bool]:
    """The line without comments (``;`` unless escaped, ``;-- … --;`` blocks), and whether a
    block comment is still open at its end."""
    kept: list[str] = []
    i = 0
    while i < len(line):
        if in_block:
            end = line.find("--;", i)
            if end < 0:
                return "".join(kept), True
            in_block, i = False, end + 3
        elif line.startswith(";--", i):
            in_block, i = True, i + 3
        elif line[i] == ";" and not (i and line[i - 1] == "\\"):
            break
        else:
            kept.append(line[i])
            i += 1
    return "".join(kept), in_block


def _item(content: str) -> Item:
    if content.startswith("#"):
        return ("directive", content, "")
    section = _SECTION.fullmatch(content)
    if section:
        return ("section", section[1], section[2] or "")
    entry = _ENTRY.fullmatch(content)
    if entry:
        return ("entry", entry[1].strip(), entry[2].strip())
    return ("line", content, "")


def structure(text: str) -> list[Item]:
    """The items of a configuration file as Asterisk splits it (lines end at ``\\n`` only)."""
    items: list[Item] = []
    in_block = False
    for line in text.split("\n"):
        content, in_block = _uncomment(line, in_block)
        content = content.strip()
        if content:
            items.append(_item(content))
    return items


def check_structure(files: Mapping[str, str], expected: Mapping[str, list[Item]]) -> None:
    """Raise ConfigCheckError unless every rendered file reads back as exactly the sections,
    keys and values the renderer meant (a value that smuggles a newline, a comment, a section
    or a directive changes what Asterisk reads)."""
    for name in sorted(set(files) | set(expected)):
        got = structure(files.get(name, ""))
        meant = expected.get(name, [])
        for n, (a, b) in enumerate(zip(got, meant, strict=False)):
            if a != b:
                raise ConfigCheckError(
                    f"{name}: item {n + 1} reads as {a[0]} {a[1]!r}, the renderer meant {b[0]} {b[1]!r}"
                )
        if len(got) != len(meant):
            raise ConfigCheckError(f"{name}: {len(got)} items, the renderer meant {len(meant)}")
