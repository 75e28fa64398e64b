"""Small-cell suppression: the one rule every export and report of call figures applies.

A *cell* is one row of a table of counts: its dimensions (e.g. ``interval_start`` and
``topic``) name it, its measures (``calls``, ``answered``, ``wait_seconds_sum`` ...) count it.
A cell built from fewer than ``k`` calls can single a caller out ("the one call about legal
questions on Tuesday at 03:15"), so it is never shown as it is:

1. Within each group of rows that share the *kept* dimensions (e.g. one interval), every cell
   with ``count < k`` loses its *suppressed* dimensions (e.g. ``topic``): they become
   ``"other"``, and all such cells of the group merge into one "other" cell (measures added;
   those named in ``maxima`` take the maximum). An input cell already called "other" joins it.
2. An "other" cell that still has fewer than ``k`` calls is hidden: dropped from the output, so
   nothing is told about it except that the visible cells do not add up to every call.
3. Cells with ``count >= k`` are shown unchanged, in their input order; a group's "other" cell
   comes after them.

``k = 1`` shows every cell. Rows are plain mappings (dimension -> value, measure -> number), so
exports, reports and anything else can share this function. Measures may be ``None`` (nothing
measured); a merge of only ``None`` stays ``None``.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Any, Final

OTHER: Final = "other"


@dataclass
class Suppressed:
    """The rows to show, and how many input cells were merged into "other" or hidden."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    merged: int = 0  # input cells under k that went into an "other" cell
    hidden: int = 0  # "other" cells dropped because they were still under k


def _merge(
    into: dict[str, Any], row: Mapping[str, Any], measures: Iterable[str], maxima: frozenset[str]
) -> None:
    for name in measures:
        value = row.get(name)
        if value is None:
            continue
        current = into.get(name)
        if current is None:
            into[name] = value
        elif name in maxima:
            into[name] = max(current, value)
        else:
            into[name] = current + value


def suppress_small_cells(
    rows: Iterable[Mapping[str, Any]],
    k: int,
    suppressed: Sequence[str],
    kept: Sequence[str] = (),
    count: str = "calls",
    maxima: Iterable[str] = (),
) -> Suppressed:
    """Apply the rule of this module's docstring.

    ``suppressed``: the dimensions a small cell loses (become "other"); ``kept``: the dimensions
    that stay (groups); ``count``: the measure compared with ``k``. Every other key of a row is
    a measure. Raises ``ValueError`` for ``k < 1`` or a row without the ``count`` measure.
    """
    if k < 1:
        raise ValueError(f"small-cell suppression needs k >= 1, got {k}")
    dims = frozenset(suppressed) | frozenset(kept)
    high = frozenset(maxima)
    result = Suppressed()
    groups: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    others: dict[tuple[Any, ...], dict[str, Any]] = {}
    for row in rows:
        if not isinstance(row.get(count), int | float):
            raise ValueError(f"a row without a number in {count!r}: {sorted(row)}")
        group = tuple(row.get(d) for d in kept)
        shown = groups.setdefault(group, [])
        is_other = all(row.get(d) == OTHER for d in suppressed)
        if row[count] >= k and not is_other:
            shown.append(dict(row))
            continue
        result.merged += 0 if is_other else 1
        other = others.setdefault(
            group, {**{d: row.get(d) for d in kept}, **dict.fromkeys(suppressed, OTHER)}
        )
        _merge(other, row, (name for name in row if name not in dims), high)
    for group, shown in groups.items():
        result.rows.extend(shown)
        merged = others.get(group)
        if merged is None:
            continue
        if merged.get(count, 0) >= k:
            result.rows.append(merged)
        else:
            result.hidden += 1
    return result


def suppress_small_values(members: Mapping[str, Mapping[str, AbstractSet[Hashable]]], k: int) -> Suppressed:
    """The same rule for counts of distinct members (calls) per field and value, where one
    member may have several values of a field (a summary's issues): within each field, values
    with fewer than ``k`` members merge into "other", which counts its distinct members (not
    the sum, which would count a call with two rare values twice) and is hidden under ``k``.
    Rows: ``{"field", "value", "calls"}``, fields and values in input order."""
    if k < 1:
        raise ValueError(f"small-cell suppression needs k >= 1, got {k}")
    result = Suppressed()
    for name, values in members.items():
        other: set[Hashable] = set()
        for value, calls in values.items():
            if len(calls) >= k and value != OTHER:
                result.rows.append({"field": name, "value": value, "calls": len(calls)})
            else:
                result.merged += 0 if value == OTHER else 1
                other |= calls
        if other and len(other) >= k:
            result.rows.append({"field": name, "value": OTHER, "calls": len(other)})
        elif other:
            result.hidden += 1
    return result
