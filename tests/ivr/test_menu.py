from __future__ import annotations

from hotline.settings import Settings
from ivr.menu import Ask, Menu, MenuRun, Route, RouteReason


def test_one_digit_routes_to_its_topic_queue(settings: Settings) -> None:
    run = MenuRun(Menu.from_settings(settings))
    assert run.answer("1") == Route("crisis", "crisis", RouteReason.CHOSEN, "1")


def test_silence_ends_at_a_human_on_the_default_queue(settings: Settings) -> None:
    menu = Menu.from_settings(settings)
    run = MenuRun(menu)
    step = run.answer(None)
    assert isinstance(step, Ask) and step.attempt == 2
    assert run.answer("") == Route("main", None, RouteReason.NO_INPUT, "")


def test_wrong_keys_end_at_a_human_too(settings: Settings) -> None:
    run = MenuRun(Menu.from_settings(settings))
    assert isinstance(run.answer("9"), Ask)
    assert run.answer("8") == Route("main", None, RouteReason.INVALID_INPUT, "9,8")


def test_a_second_try_can_still_choose(settings: Settings) -> None:
    run = MenuRun(Menu.from_settings(settings))
    run.answer("9")
    assert run.answer("3") == Route("loss", "loss", RouteReason.CHOSEN, "9,3")


def test_menu_digits_are_the_escape_digits(settings: Settings) -> None:
    assert Menu.from_settings(settings).digits == "123456"
