"""The IVR document's bounds (issue 14, item 3): size, depth and aliases refused before the
document is built; validation linear in the document's size; the API's parsing and validation
off the event loop."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from ivr import service as ivr_service
from ivr import validation
from ivr.codec import MAX_DEPTH, MAX_DOCUMENT_BYTES, DocumentError, from_data, from_yaml, to_data, to_yaml
from ivr.document import IvrDocument
from ivr.validation import validate
from tests.conftest import seed_document
from tests.hotline.test_problems import Api, api, sounds  # noqa: F401  (fixtures)


def _issues(text: str) -> list[str]:
    with pytest.raises(DocumentError) as refused:
        from_yaml(text)
    return [str(issue) for issue in refused.value.issues]


def test_yaml_nested_50000_deep_is_refused_before_it_is_built() -> None:
    flow = "menu: " + "[" * 50_000 + "]" * 50_000
    started = time.perf_counter()
    assert _issues(flow) == [f"line 1: nested deeper than {MAX_DEPTH} levels"]
    block = "".join(" " * i + f"k{i}:\n" for i in range(MAX_DEPTH + 5))
    assert _issues(block)[0].endswith(f"nested deeper than {MAX_DEPTH} levels")
    assert time.perf_counter() - started < 5


def test_a_document_over_the_size_cap_is_refused_unread() -> None:
    text = "languages: [en]\n" + "#" * MAX_DOCUMENT_BYTES
    [issue] = _issues(text)
    assert issue.startswith("document: ") and str(MAX_DOCUMENT_BYTES) in issue


def test_anchors_and_aliases_are_refused() -> None:
    laughs = "a: &a [x, x]\nb: &b [*a, *a]\nc: [*b, *b]\n"
    assert _issues(laughs) == ["line 1: anchors and aliases (& and *) are not accepted"]


def test_the_seed_is_within_the_bounds() -> None:
    text = to_yaml(seed_document())  # with its example protocols for seven topics: about 30 kB
    assert from_yaml(text) == seed_document() and len(text) < MAX_DOCUMENT_BYTES // 50


def _chain(n: int) -> IvrDocument:
    """The seed plus n topics, n queues and a chain of n nodes (bench/ivr_validation.py)."""
    data: dict[str, Any] = to_data(seed_document())
    names = {lang: "T" for lang in data["languages"]}
    nodes = data["menu"]["nodes"]
    nodes["root"]["options"]["7"] = {"action": "submenu", "node": "c-0"}
    for i in range(n):
        data["queues"].append({**data["queues"][0], "name": f"q-{i}"})
        data["topics"].append({"id": f"t-{i}", "names": names, "queue": f"q-{i}", "priority": 1})
        options: dict[str, Any] = {"2": {"action": "topic", "topic": f"t-{i}"}}
        if i + 1 < n:
            options["1"] = {"action": "submenu", "node": f"c-{i + 1}"}
        back = {"action": "back"}
        nodes[f"c-{i}"] = {"prompt": "welcome", "options": options, "no_input": back, "invalid": back}
    return from_data(data)


def _steps(doc: IvrDocument, monkeypatch: pytest.MonkeyPatch) -> int:
    """How many steps validation takes: silent moves between nodes and parent maps built."""
    steps = 0

    def counting(real: Any) -> Any:
        def step(*args: Any) -> Any:
            nonlocal steps
            steps += 1
            return real(*args)

        return step

    with monkeypatch.context() as patch:
        for name in ("_silent_next", "_parents", "_labelled_actions"):
            patch.setattr(validation, name, counting(getattr(validation, name)))
        assert validate(doc) == []
    return steps


def test_validation_steps_grow_linearly(monkeypatch: pytest.MonkeyPatch) -> None:
    """8 times the document, at most about 8 times the steps (before this change: the parent
    map built once per node and each node's silent walk to the root, quadratic; timings in
    bench/README.md, never in a test)."""
    small, large = _steps(_chain(250), monkeypatch), _steps(_chain(2000), monkeypatch)
    assert large <= 8.5 * small, (small, large)


async def test_the_api_parses_and_validates_off_the_event_loop(
    api: Api,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    loop_thread = threading.get_ident()
    threads: dict[str, list[int]] = {}

    def spy(module: Any, name: str) -> None:
        real = getattr(module, name)

        def spying(*args: Any) -> Any:
            threads.setdefault(name, []).append(threading.get_ident())
            return real(*args)

        monkeypatch.setattr(module, name, spying)

    for module, name in ((ivr_service, "from_yaml"), (ivr_service, "validate")):  # the API asks the service
        spy(module, name)
    yaml_text = to_yaml(seed_document()).encode()
    assert (await api.send("put", "/api/ivr/draft/yaml", content=yaml_text)).status_code == 200
    assert (await api.send("post", "/api/ivr/validate")).status_code == 200
    assert (await api.send("get", "/api/ivr/draft")).status_code == 200
    assert set(threads) == {"validate", "from_yaml"} and len(threads["validate"]) >= 3
    assert all(t != loop_thread for ts in threads.values() for t in ts), threads


async def test_deep_yaml_through_the_api_is_a_422(api: Api) -> None:  # noqa: F811
    deep = ("menu: " + "[" * 50_000 + "]" * 50_000).encode()
    await api.expect(422, "ivr_document_invalid", "put", "/api/ivr/draft/yaml", content=deep)
