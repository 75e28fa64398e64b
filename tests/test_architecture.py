"""The house keeps its shape (../shared/docs/architecture.md): rooms import only rooms below them,
the sub-rooms of metrics/ likewise, the service never imports the sandbox, and no room or module
grows past its bound. Imports are read with ``ast`` (every import, lazy ones in functions too)."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from functools import cache
from pathlib import Path

import pytest

from tests.conftest import ROOT

# Bottom to top: a room may import only rooms before it in this list.
ROOMS = (
    "core",
    "exposition",
    "telephony",
    "privacy",
    "ivr",
    "agents",
    "dialplan",
    "metrics",
    "desk",
    "supervision",
    "planning",
    "wallboard",
    "sandbox",
    "hotline",
)
METRICS_SUBROOMS = ("records", "reports", "live")  # bottom to top
MAX_MODULE_LINES = 400
MAX_ROOM_SHARE = 0.22
SERVICE = "hotline.app"  # what `hotline serve` runs; it never reaches sandbox/


def modules() -> Iterator[tuple[str, Path]]:
    for room in ROOMS:
        for path in sorted((ROOT / room).rglob("*.py")):
            if "migrations" not in path.parts:
                parts = path.relative_to(ROOT).with_suffix("").parts
                name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
                yield name, path


@cache
def imports_of(path: Path) -> frozenset[str]:
    """Every module this file imports, anywhere in it (``from a import b`` gives a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(found)


def top_level_imports_of(path: Path) -> frozenset[str]:
    """Imports run when the module loads (not those inside functions)."""
    found: set[str] = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return frozenset(found)


def room_of(module: str) -> str | None:
    head = module.split(".")[0]
    return head if head in ROOMS else None


def subroom_of(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if parts[0] == "metrics" and len(parts) > 1 and parts[1] in METRICS_SUBROOMS else None


def edges(level: str) -> set[tuple[str, str, str]]:
    """(importer's unit, imported unit, importing module) for rooms or metrics' sub-rooms."""
    unit = room_of if level == "rooms" else subroom_of
    found = set()
    for name, path in modules():
        mine = unit(name)
        for target in imports_of(path):
            theirs = unit(target)
            if mine and theirs and mine != theirs:
                found.add((mine, theirs, name))
    return found


def cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state and (found := visit(nxt)):
                return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (found := visit(node)):
            return found
    return None


@pytest.mark.parametrize(("level", "order"), [("rooms", ROOMS), ("metrics", METRICS_SUBROOMS)])
def test_no_import_cycle_and_every_import_goes_down(level: str, order: tuple[str, ...]) -> None:
    found = edges(level)
    graph: dict[str, set[str]] = {}
    for mine, theirs, _ in found:
        graph.setdefault(mine, set()).add(theirs)
    assert cycle(graph) is None, f"import cycle between {level}: {' -> '.join(cycle(graph) or [])}"
    upward = sorted(
        f"{module} imports {theirs}"
        for mine, theirs, module in found
        if order.index(theirs) > order.index(mine)
    )
    assert not upward, "imports going up (" + " < ".join(order) + "):\n" + "\n".join(upward)


def test_the_cycle_finder_finds_one() -> None:
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}}) is None


def test_the_service_never_loads_the_sandbox() -> None:
    paths = dict(modules())
    seen, todo = set(), [SERVICE]
    while todo:
        module = todo.pop()
        if module in seen or module not in paths:
            continue
        seen.add(module)
        todo.extend(top_level_imports_of(paths[module]))
    assert SERVICE in seen
    assert not [m for m in seen if room_of(m) == "sandbox"], "the service loads sandbox/ modules"


def test_no_module_over_its_bound() -> None:
    sizes = {name: len(path.read_text(encoding="utf-8").splitlines()) for name, path in modules()}
    big = {name: n for name, n in sizes.items() if n > MAX_MODULE_LINES}
    assert not big, f"modules over {MAX_MODULE_LINES} lines: {big}"


def test_no_room_holds_more_than_its_share() -> None:
    lines: dict[str, int] = {}
    for name, path in modules():
        room = room_of(name) or ""
        lines[room] = lines.get(room, 0) + len(path.read_text(encoding="utf-8").splitlines())
    total = sum(lines.values())
    shares = {room: round(n / total, 3) for room, n in lines.items()}
    assert max(shares.values()) <= MAX_ROOM_SHARE, f"room shares of {total} lines: {shares}"


def test_every_room_is_a_package_in_the_distribution() -> None:
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    for room in ROOMS:
        assert (ROOT / room / "__init__.py").exists(), room
        assert f'"{room}*"' in text and f'"{room}"' in text, f"{room} is not packaged or type-checked"
