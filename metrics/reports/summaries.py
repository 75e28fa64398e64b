"""What the after-call summaries of a report's calls say, counted: per field, the calls with each
enumerated value (a choice, each of several, yes or no, each issue, the referral given), with
the small-cell rule (privacy/suppression.py ``suppress_small_values``). Never a text.

A call counts in the report's period by its start, like every figure of the report; summaries
of records retention has deleted are gone with them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from metrics.records.summary_store import Summarised, words
from privacy.suppression import suppress_small_values


@dataclass(frozen=True)
class SummaryCounts:
    k: int
    calls: int  # calls with a summary
    values: list[dict[str, object]]  # {"field", "value", "calls"}
    merged: int
    hidden: int


def count_summaries(summaries: Iterable[Summarised], k: int) -> SummaryCounts:
    members: dict[str, dict[str, set[str]]] = {}
    calls = 0
    for summary in summaries:
        calls += 1
        for name, value in sorted(summary.fields.items()):
            for word in words(value):
                members.setdefault(name, {}).setdefault(word, set()).add(summary.record_id)
    ordered = {name: dict(sorted(values.items())) for name, values in sorted(members.items())}
    shown = suppress_small_values(ordered, k)
    return SummaryCounts(k, calls, shown.rows, shown.merged, shown.hidden)
