"""A caller's walk through the seed menu, as the pure state machine sees it."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ivr.document import IvrDocument, MenuNode, RepeatAction
from ivr.engine import Ask, Engine, Route, RouteKind, RouteReason, Walk
from tests.conftest import seed_document

MOSCOW = ZoneInfo("Europe/Moscow")
MONDAY_10 = datetime(2026, 11, 23, 10, 0, tzinfo=MOSCOW)
SUNDAY_NOON = datetime(2026, 11, 22, 12, 0, tzinfo=MOSCOW)
KEYS = [*"0123456789*#", ""]
SEED = seed_document()


def prompt_map(doc: IvrDocument) -> dict[tuple[str, str], str]:
    return {
        (prompt, lang): f"/p/{lang}/{prompt}" for prompt, by_lang in doc.prompts.items() for lang in by_lang
    }


@pytest.fixture
def engine(document: IvrDocument) -> Engine:
    return Engine(1, document, prompt_map(document))


def walk_to(engine: Engine, *keys: str, at: datetime = MONDAY_10, language: str | None = None) -> Ask | Route:
    walk = engine.walk(at, language)
    step: Ask | Route = walk.start()
    for key in keys:
        assert isinstance(step, Ask), f"the walk ended before {key!r}: {step}"
        step = walk.answer(key)
    return step


def ask(step: Ask | Route) -> Ask:
    assert isinstance(step, Ask), step
    return step


def route(step: Ask | Route) -> Route:
    assert isinstance(step, Route), step
    return step


# -- the language node ---------------------------------------------------------------------------
def test_the_walk_starts_at_the_language_node_in_the_default_language(engine: Engine) -> None:
    """The choice of language says itself in every language it offers, the caller's first."""
    first = ask(engine.walk(MONDAY_10).start())
    assert first == Ask(
        node="language",
        prompts=("/p/ru/language", "/p/en/language"),
        timeout_ms=3000,
        language="ru",
        attempt=1,
        escape="12",
    )


def test_silence_at_the_language_node_goes_on_to_root_in_russian(engine: Engine) -> None:
    step = ask(walk_to(engine, ""))
    assert (step.node, step.prompts, step.language, step.attempt) == ("root", ("/p/ru/welcome",), "ru", 1)
    assert step.timeout_ms == 5000 and step.escape == "01234569"


def test_two_at_the_language_node_plays_root_in_english(engine: Engine) -> None:
    step = ask(walk_to(engine, "2"))
    assert (step.node, step.prompts, step.language) == ("root", ("/p/en/welcome",), "en")


def test_one_at_the_language_node_keeps_russian(engine: Engine) -> None:
    step = ask(walk_to(engine, "1", language="en"))
    assert (step.node, step.prompts, step.language) == ("root", ("/p/ru/welcome",), "ru")


def test_a_wrong_key_at_the_language_node_goes_on_to_root(engine: Engine) -> None:
    step = ask(walk_to(engine, "7"))
    assert (step.node, step.prompts, step.language) == ("root", ("/p/ru/welcome",), "ru")


# -- topics --------------------------------------------------------------------------------------
def test_a_two_level_path_routes_to_the_violence_queue(engine: Engine) -> None:
    got = route(walk_to(engine, "2", "2", "1"))
    assert got == Route(
        kind=RouteKind.QUEUE,
        reason=RouteReason.CHOSEN,
        language="en",
        path="2,2,1",
        nodes=("language", "root", "violence"),
        queue="violence",
        topic="violence-home",
        priority=5,
        overflow_queue="main",
        overflow_after_seconds=90,
        overflow_waiting_over=None,
    )


def test_the_violence_menu_plays_its_own_prompt(engine: Engine) -> None:
    step = ask(walk_to(engine, "", "2"))
    assert (step.node, step.prompts, step.escape) == ("violence", ("/p/ru/violence",), "*012")


def test_crisis_has_the_highest_priority_and_overflows_to_main(engine: Engine) -> None:
    got = route(walk_to(engine, "", "1"))
    assert (got.kind, got.reason, got.queue, got.topic, got.priority) == (
        RouteKind.QUEUE,
        RouteReason.CHOSEN,
        "crisis",
        "crisis",
        10,
    )
    assert (got.overflow_queue, got.overflow_after_seconds, got.overflow_waiting_over) == ("main", 60, 3)
    assert (got.path, got.nodes, got.language, got.after_hours) == ("1", ("language", "root"), "ru", False)


def test_a_topic_without_overflow_has_none(engine: Engine) -> None:
    got = route(walk_to(engine, "1", "3"))
    assert (got.queue, got.topic, got.priority) == ("loss", "loss", 0)
    assert (got.overflow_queue, got.overflow_after_seconds, got.overflow_waiting_over) == (None, None, None)


# -- moving around -------------------------------------------------------------------------------
def test_star_in_the_violence_menu_goes_back_to_root(engine: Engine) -> None:
    step = ask(walk_to(engine, "2", "2", "*"))
    assert (step.node, step.prompts, step.attempt) == ("root", ("/p/en/welcome",), 1)
    got = route(walk_to(engine, "2", "2", "*", "3"))
    assert (got.queue, got.path, got.nodes) == ("loss", "2,2,*,3", ("language", "root", "violence"))


def test_back_resets_the_attempt_count(engine: Engine) -> None:
    step = ask(walk_to(engine, "", "2", "", "*"))
    assert (step.node, step.attempt) == ("root", 1)


def test_nine_repeats_the_prompt_and_keeps_the_attempt_count(engine: Engine) -> None:
    assert ask(walk_to(engine, "", "9")).attempt == 1
    step = ask(walk_to(engine, "", "", "9"))
    assert (step.node, step.prompts, step.attempt) == ("root", ("/p/ru/welcome",), 2)
    # The repeat did not earn another try: one more silence ends at a human.
    got = route(walk_to(engine, "", "", "9", ""))
    assert (got.queue, got.reason) == ("main", RouteReason.NO_INPUT)


# -- ending at a human ---------------------------------------------------------------------------
def test_silence_twice_at_root_ends_at_an_operator_on_main(engine: Engine) -> None:
    second = ask(walk_to(engine, "", ""))
    assert (second.node, second.attempt) == ("root", 2)
    got = route(walk_to(engine, "", "", ""))
    assert got == Route(
        kind=RouteKind.QUEUE,
        reason=RouteReason.NO_INPUT,
        language="ru",
        path="",
        nodes=("language", "root"),
        queue="main",
    )


def test_two_wrong_keys_at_root_end_at_main_as_invalid_input(engine: Engine) -> None:
    got = route(walk_to(engine, "2", "7", "#"))
    assert (got.kind, got.reason, got.queue, got.language, got.path) == (
        RouteKind.QUEUE,
        RouteReason.INVALID_INPUT,
        "main",
        "en",
        "2,7,#",
    )
    assert got.topic is None and got.priority == 0


def test_zero_is_a_chosen_operator(engine: Engine) -> None:
    got = route(walk_to(engine, "", "0"))
    assert (got.kind, got.reason, got.queue, got.path) == (RouteKind.QUEUE, RouteReason.OPERATOR, "main", "0")
    got = route(walk_to(engine, "", "2", "0"))
    assert (got.reason, got.queue, got.nodes) == (
        RouteReason.OPERATOR,
        "main",
        ("language", "root", "violence"),
    )


# -- opening hours -------------------------------------------------------------------------------
def test_legal_when_the_office_is_closed_refers_to_legal_aid(engine: Engine) -> None:
    got = route(walk_to(engine, "2", "5", at=SUNDAY_NOON))
    assert got == Route(
        kind=RouteKind.REFERRAL,
        reason=RouteReason.AFTER_HOURS,
        language="en",
        path="2,5",
        nodes=("language", "root"),
        topic="legal",
        referral="legal-aid",
        referral_number="88001000001",
        announce=("/p/en/closed",),
        after_hours=True,
    )


def test_the_closed_announcement_follows_the_callers_language(engine: Engine) -> None:
    assert route(walk_to(engine, "", "5", at=SUNDAY_NOON)).announce == ("/p/ru/closed",)


def test_legal_on_a_monday_morning_goes_to_the_legal_queue(engine: Engine) -> None:
    got = route(walk_to(engine, "", "5", at=MONDAY_10))
    assert (got.kind, got.reason, got.queue, got.topic, got.after_hours, got.announce) == (
        RouteKind.QUEUE,
        RouteReason.CHOSEN,
        "legal",
        "legal",
        False,
        (),
    )


def test_the_schedule_is_read_in_moscow_time(engine: Engine) -> None:
    # 08:30 UTC on a Monday is 11:30 in Moscow (open); 17:30 UTC is 20:30 (closed).
    assert route(walk_to(engine, "", "5", at=datetime(2026, 11, 23, 8, 30, tzinfo=UTC))).queue == "legal"
    assert route(walk_to(engine, "", "5", at=datetime(2026, 11, 23, 17, 30, tzinfo=UTC))).kind is (
        RouteKind.REFERRAL
    )


def test_social_after_hours_goes_to_the_main_queue(engine: Engine) -> None:
    got = route(walk_to(engine, "", "6", at=SUNDAY_NOON))
    assert (got.kind, got.reason, got.queue, got.topic, got.after_hours, got.announce) == (
        RouteKind.QUEUE,
        RouteReason.AFTER_HOURS,
        "main",
        "social",
        True,
        ("/p/ru/closed",),
    )
    assert got.referral is None
    assert route(walk_to(engine, "", "6", at=MONDAY_10)).queue == "social"


def test_a_holiday_closes_a_weekday(engine: Engine) -> None:
    new_years_eve = datetime(2026, 12, 31, 12, 0, tzinfo=MOSCOW)  # a Thursday, listed as a holiday
    assert route(walk_to(engine, "", "6", at=new_years_eve)).after_hours is True


# -- the channel's language ----------------------------------------------------------------------
def test_a_channel_language_of_the_document_is_used(engine: Engine) -> None:
    walk = engine.walk(MONDAY_10, "en")
    assert walk.language == "en"
    assert walk.start().prompts == ("/p/en/language", "/p/ru/language")
    assert ask(walk.answer("")).prompts == ("/p/en/welcome",)


@pytest.mark.parametrize("channel", ["de", "", None, "EN", "en_GB"])
def test_another_channel_language_is_ignored(engine: Engine, channel: str | None) -> None:
    walk = engine.walk(MONDAY_10, channel)
    assert walk.language == "ru"
    assert walk.start().prompts == ("/p/ru/language", "/p/en/language")


def test_core_prompts_are_played_as_asterisk_sounds(engine: Engine) -> None:
    assert engine.play("core:beep", "en") == "beep"
    assert engine.play("welcome", "en") == "/p/en/welcome"


# -- every caller reaches someone ----------------------------------------------------------------
def _bound(doc: IvrDocument) -> int:
    max_tries = max(node.tries for node in doc.menu.nodes.values())
    return len(doc.menu.nodes) * max_tries * 4 + 10


def _finish(walk: Walk, keys: list[str], bound: int) -> Route:
    step: Ask | Route = walk.start()
    for count in range(bound):
        if isinstance(step, Route):
            return step
        step = walk.answer(keys[count % len(keys)] if keys else "")
    assert isinstance(step, Route), f"no route after {bound} answers: keys {keys}, at {step}"
    return step


@settings(max_examples=300, deadline=None)
@given(keys=st.lists(st.sampled_from(KEYS), max_size=60), sunday=st.booleans(), english=st.booleans())
def test_any_caller_ends_at_a_queue_or_referral_of_the_document(
    keys: list[str], sunday: bool, english: bool
) -> None:
    document = SEED
    engine = Engine(1, document, prompt_map(document))
    walk = engine.walk(SUNDAY_NOON if sunday else MONDAY_10, "en" if english else None)
    got = _finish(walk, keys, _bound(document))
    if got.kind is RouteKind.QUEUE:
        assert got.queue in document.queue_names() and got.referral is None
    else:
        referral = document.referral(got.referral or "")
        assert referral is not None and got.referral_number == referral.number
    assert got.language in document.languages
    assert set(got.nodes) <= set(document.menu.nodes)


@pytest.mark.parametrize("keys", [["9"], ["2", "*"], ["", "2", "*"], ["", "9", "2", "*"]])
def test_a_caller_going_round_in_circles_still_reaches_a_human(engine: Engine, keys: list[str]) -> None:
    walk = engine.walk(MONDAY_10)
    got = _finish(walk, keys, _bound(engine.document))
    assert (got.kind, got.reason, got.queue) == (RouteKind.QUEUE, RouteReason.TOO_MANY_STEPS, "main")
    assert engine.max_answers == 12 and walk.answers == 12  # 3 nodes x 2 tries x 2


def test_a_purposeful_caller_is_not_cut_short(engine: Engine) -> None:
    keys = ["2", "9", "2", "*", "9", "2", "*", "9", "2", "9", "1"]  # 11 answers, the last one chooses
    got = route(walk_to(engine, *keys))
    assert (got.reason, got.topic) == (RouteReason.CHOSEN, "violence-home")


def test_a_document_where_silence_repeats_still_ends(document: IvrDocument) -> None:
    # An unpublishable draft (validation refuses 'repeat' on no-input) that simulate may walk.
    nodes = dict(document.menu.nodes)
    nodes["root"] = MenuNode.model_validate(
        {**nodes["root"].model_dump(), "no_input": RepeatAction(action="repeat").model_dump()}
    )
    doc = document.model_copy(update={"menu": document.menu.model_copy(update={"nodes": nodes})})
    got = _finish(Engine(1, doc, prompt_map(doc)).walk(MONDAY_10), [""], _bound(doc))
    assert (got.kind, got.reason, got.queue) == (RouteKind.QUEUE, RouteReason.TOO_MANY_STEPS, "main")
