"""The shipped lines (lines/<line>/, issue 20): each IVR document is valid, its settings load,
every key of every menu ends at a queue, a referral or a topic that exists, and a caller who
presses nothing reaches a person soon, timed with the prompts' real audio (espeak-ng and sox at
the line's own speed) and the menus' timeouts and tries."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.settings import Settings, load_settings
from dialplan.check import check
from dialplan.render import render, sandbox_target, write
from ivr.codec import from_yaml
from ivr.document import IvrDocument, OperatorAction
from ivr.engine import Ask, Engine, Route, RouteKind
from ivr.prompts import PromptStudio, Voices
from ivr.validation import validate
from tests.conftest import ROOT

LINES = sorted(p.name for p in (ROOT / "lines").iterdir() if (p / "hotline-ivr.yaml").is_file())
# Whenever a line's topics are open (a Wednesday at noon in Moscow and Warsaw) and closed (a
# Sunday at 3 in the morning): after-hours plans are walked too.
TIMES = (datetime(2027, 3, 17, 10, 0, tzinfo=UTC), datetime(2027, 3, 21, 1, 0, tzinfo=UTC))
SILENCE_LIMIT_SECONDS = 15.0  # issue 20: a silent caller reaches a person within this
WRONG_KEY = "#"  # no shipped menu uses it


def document(line: str) -> IvrDocument:
    return from_yaml((ROOT / "lines" / line / "hotline-ivr.yaml").read_text(encoding="utf-8"))


def line_settings(line: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The line's hotline.yaml as the CLI loads it; secrets from the environment, so that no
    development secret is written under the line's var_dir."""
    monkeypatch.setenv("HOTLINE_AMI_SECRET_LOCAL", "test-ami-secret-not-used")
    monkeypatch.setenv("HOTLINE_AGI_SECRET", "test-agi-secret-not-used")
    return load_settings(ROOT / "lines" / line / "hotline.yaml")


def engine(doc: IvrDocument) -> Engine:
    """As ivr/service.py's simulate builds it: prompts labelled '<language>/<prompt>'."""
    labels = {(p, lang): f"{lang}/{p}" for p, by_lang in doc.prompts.items() for lang in by_lang}
    return Engine(0, doc, labels)


def replay(doc: IvrDocument, keys: tuple[str, ...], at: datetime) -> Ask | Route:
    walk = engine(doc).walk(at)
    step: Ask | Route = walk.start()
    for key in keys:
        assert isinstance(step, Ask), f"keys {keys}: the walk ended before the last key"
        step = walk.answer(key)
    return step


@dataclass(frozen=True)
class Walked:
    keys: tuple[str, ...]
    end: Route


def every_path(doc: IvrDocument, at: datetime) -> Iterator[Walked]:
    """Every key of every menu, silence and a wrong key included, followed to its route; a
    sequence stops when it comes back to a menu it has already been at on the way."""
    todo: list[tuple[tuple[str, ...], frozenset[tuple[str, int]]]] = [((), frozenset())]
    while todo:
        keys, seen = todo.pop()
        step = replay(doc, keys, at)
        if isinstance(step, Route):
            yield Walked(keys, step)
            continue
        state = (step.node, step.attempt)
        if state in seen:  # back, repeat: a menu already heard on the way
            continue
        for key in [*doc.menu.nodes[step.node].options, "", WRONG_KEY]:
            todo.append(((*keys, key), seen | {state}))


@pytest.mark.parametrize("line", LINES)
def test_the_line_has_its_files(line: str) -> None:
    folder = ROOT / "lines" / line
    assert {"hotline-ivr.yaml", "hotline.yaml", "README.md"} <= {p.name for p in folder.iterdir()}


def test_the_five_lines_of_issue_20() -> None:
    assert set(LINES) >= {"trust-line", "support-line", "coalition", "peer-support", "feedback"}


@pytest.mark.parametrize("line", LINES)
def test_the_document_is_valid(line: str) -> None:
    assert [str(issue) for issue in validate(document(line))] == []


@pytest.mark.parametrize("line", LINES)
def test_the_settings_load_and_keep_the_shared_sandbox(line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The line's own var_dir and database (a database seeded with another line's document is
    never re-seeded); the sandbox, its prompts and the ports the root file's, so that
    `make run LINE=<line>` replaces the running sandbox like `make run`."""
    settings = line_settings(line, monkeypatch)
    root = line_settings_root(monkeypatch)
    assert settings.ivr_seed == ROOT / "lines" / line / "hotline-ivr.yaml"
    assert settings.var_dir.resolve() == (ROOT / "var" / "lines" / line).resolve()
    database = Path(settings.database_url.removeprefix("sqlite:///")).resolve()
    assert database == (ROOT / "var" / "lines" / line / "hotline.sqlite3").resolve()
    assert settings.sandbox.directory.resolve() == root.sandbox.directory.resolve()
    assert settings.prompts_dir.resolve() == root.prompts_dir.resolve()
    assert settings.asterisk_prompts_dir == root.asterisk_prompts_dir
    assert [n.config_dir.resolve() for n in settings.asterisk if n.config_dir] == [
        n.config_dir.resolve() for n in root.asterisk if n.config_dir
    ]
    assert (settings.http.port, settings.agi.port, settings.sandbox.sip_port) == (
        root.http.port,
        root.agi.port,
        root.sandbox.sip_port,
    )
    assert [n.ami_port for n in settings.asterisk] == [n.ami_port for n in root.asterisk]
    assert settings.environment == "development"


def line_settings_root(monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("HOTLINE_AMI_SECRET_LOCAL", "test-ami-secret-not-used")
    monkeypatch.setenv("HOTLINE_AGI_SECRET", "test-agi-secret-not-used")
    return load_settings(ROOT / "hotline.yaml")


@pytest.mark.parametrize("line", LINES)
def test_the_sandbox_configuration_renders(
    line: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What `make run LINE=<line>` gives the sandbox Asterisk: queues, dialplan, referral trunk."""
    doc, settings = document(line), line_settings(line, monkeypatch)
    write(render(settings, sandbox_target(settings), doc), tmp_path / "etc")
    check(tmp_path / "etc", doc.queue_names())


@pytest.mark.parametrize("line", LINES)
def test_every_language_has_a_voice_and_the_guard_knows_the_topics(
    line: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    doc, settings = document(line), line_settings(line, monkeypatch)
    assert set(doc.languages) <= set(settings.tts.voices)
    assert set(settings.burnout.heavy_topics) <= {t.id for t in doc.topics}


@pytest.mark.parametrize("at", TIMES, ids=["open", "closed"])
@pytest.mark.parametrize("line", LINES)
def test_every_path_ends_at_something_that_exists(line: str, at: datetime) -> None:
    doc = document(line)
    queues, topics = set(doc.queue_names()), {t.id for t in doc.topics}
    referrals = {r.id: r.number for r in doc.referrals}
    paths = list(every_path(doc, at))
    for path in paths:
        route = path.end
        if route.kind is RouteKind.QUEUE:
            assert route.queue in queues, path
        else:
            assert referrals.get(route.referral or "") == route.referral_number, path
        assert route.topic is None or route.topic in topics, path
    chosen = {p.end.topic for p in paths if p.end.topic}
    offered = {t.id for t in doc.topics}
    assert chosen == offered, f"topics no key reaches: {offered - chosen}"


@pytest.mark.parametrize("at", TIMES, ids=["open", "closed"])
@pytest.mark.parametrize("line", LINES)
def test_silence_and_wrong_keys_end_at_a_person(line: str, at: datetime) -> None:
    """From every menu: a caller who presses nothing more, or only wrong keys, ends in a queue."""
    doc = document(line)
    for path in every_path(doc, at):
        for ending in ("", WRONG_KEY):
            if path.keys and path.keys[-1] == ending:
                assert path.end.kind is RouteKind.QUEUE, path
    walk = engine(doc).walk(at)
    step: Ask | Route = walk.start()
    for _ in doc.menu.nodes:
        if isinstance(step, Ask):
            step = walk.answer("")
    assert isinstance(step, Route) and step.kind is RouteKind.QUEUE, step


@pytest.fixture(scope="module")
def studio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("prompts")


@pytest.mark.parametrize("line", LINES)
def test_a_silent_caller_reaches_a_person_within_the_limit(
    line: str, studio_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With the real audio of every prompt the walk plays (espeak-ng at the line's tts speed):
    from the entry, and from every menu a caller may reach, silence reaches a queue in time."""
    doc, settings = document(line), line_settings(line, monkeypatch)
    studio = PromptStudio(studio_dir / line, Voices.of(settings.tts))
    seconds: dict[str, float] = {}
    for prompt_id, by_lang in doc.prompts.items():
        for lang, source in by_lang.items():
            assert source.text is not None
            seconds[f"{lang}/{prompt_id}"] = studio.synthesize(prompt_id, lang, source.text).duration_seconds
    timed = {}
    for keys in reachable_menus(doc):
        for language in doc.languages:
            walk = engine(doc).walk(TIMES[0], language)
            step: Ask | Route = walk.start()
            for key in keys:
                assert isinstance(step, Ask)
                step = walk.answer(key)
            assert isinstance(step, Ask)
            start, total = f"{step.node} ({language})", 0.0
            while isinstance(step, Ask):
                total += sum(seconds[label] for label in step.prompts) + step.timeout_ms / 1000
                step = walk.answer("")
            assert step.kind is RouteKind.QUEUE
            timed[start] = round(total, 1)
    over = {node: s for node, s in timed.items() if s > SILENCE_LIMIT_SECONDS}
    assert not over, f"silent seconds by menu: {timed}"


def reachable_menus(doc: IvrDocument) -> Iterator[tuple[str, ...]]:
    """The shortest keys to each menu node, the entry first."""
    seen = {doc.menu.entry}
    todo: list[tuple[str, ...]] = [()]
    while todo:
        keys = todo.pop(0)
        yield keys
        step = replay(doc, keys, TIMES[0])
        assert isinstance(step, Ask)
        for key in doc.menu.nodes[step.node].options:
            after = replay(doc, (*keys, key), TIMES[0])
            if isinstance(after, Ask) and after.node not in seen:
                seen.add(after.node)
                todo.append((*keys, key))


def test_the_support_line_is_tuned_for_elderly_callers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Slower speech than the default, "0" for a person at every level, at most three other
    choices a menu, and submenus that wait longer than the other lines' 4 s."""
    doc, settings = document("support-line"), line_settings("support-line", monkeypatch)
    assert settings.tts.speed_by_language.get("ru", settings.tts.speed) < 150
    for node_id, node in doc.menu.nodes.items():
        assert isinstance(node.options.get("0"), OperatorAction), node_id
        assert len(set(node.options) - {"0", "*"}) <= 3, node_id
        if node_id != doc.menu.entry:
            assert node.timeout_seconds >= 5, node_id


def test_the_coalition_speaks_polish_first() -> None:
    doc = document("coalition")
    assert (doc.default_language, doc.languages) == ("pl", ["pl", "en"])


@pytest.mark.parametrize("line", LINES)
def test_referrals_are_marked_samples_with_made_up_numbers(line: str) -> None:
    """Never a real number: the demo's made-up 88001000xxx range, and a name saying so."""
    doc = document(line)
    marks = ("Sample", "Przykład", "Пример")
    for referral in doc.referrals:
        assert referral.number.startswith("88001000"), referral.id
        assert any(mark in referral.organisation for mark in marks), referral.id
    if doc.emergency is not None:
        assert doc.emergency.number.startswith("88001000")
