"""Queues of one node (``queues[].node``): the fallback and escalation queues must live on every
node; a topic's overflow may cross to another node's queue."""

from __future__ import annotations

from typing import Any

import yaml

from ivr.codec import from_data
from ivr.validation import validate
from tests.conftest import ROOT

NODES_DOC = ROOT / "tests" / "e2e" / "nodes.yaml"


def data() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(NODES_DOC.read_text(encoding="utf-8"))
    return loaded


def problems(doc: dict[str, Any]) -> list[tuple[str, str]]:
    return [(i.where, i.problem) for i in validate(from_data(doc))]


def test_an_overflow_to_another_nodes_queue_is_valid() -> None:
    assert problems(data()) == []


def test_the_fallback_queue_must_live_on_every_node() -> None:
    doc = data()
    doc["queues"][0]["node"] = "a"  # main, the fallback queue
    [(where, problem)] = problems(doc)
    assert where == "queue main" and problem.startswith("is the fallback queue: it must live on every node")


def test_the_escalation_queue_must_live_on_every_node() -> None:
    doc = data()
    doc["escalation_queue"] = "support-b"
    [(where, problem)] = problems(doc)
    assert where == "queue support-b" and "escalation queue: it must live on every node" in problem
