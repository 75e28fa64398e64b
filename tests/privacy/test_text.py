# ruff: noqa: RUF001
"""The free-text check of the after-call summary: phone numbers, e-mail addresses, long digit
runs and street addresses in Russian, Polish and English are seen; what an operator writes
about a call without them (ages, counts, durations, times) passes."""

from __future__ import annotations

import pytest

from privacy.text import PersonalData, personal_data

PHONE, EMAIL, DIGITS, ADDRESS = (
    PersonalData.PHONE,
    PersonalData.EMAIL,
    PersonalData.DIGITS,
    PersonalData.ADDRESS,
)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        # phone numbers, as people write them
        ("перезвонить +7 900 000-00-01", PHONE),
        ("просит перезвонить на 89000000001", PHONE),
        ("тел. 8 (900) 000 00 01", PHONE),
        ("oddzwonić: 600 700 800", PHONE),
        ("+48 600-700-800", PHONE),
        ("call back on 900.000.00.01", PHONE),
        ("call +48 123 45", PHONE),  # five digits after a "+": a number cut short
        ("номер ９００ ０００ ００ ０１", PHONE),  # full-width digits
        # long runs of digits: a number dictated in pieces, a date of birth, a document number
        ("12345", DIGITS),
        ("паспорт 4510 12", DIGITS),
        ("born 12.05.1990", DIGITS),
        ("ur. 12/05/90", DIGITS),
        ("9 0 0 0 0", DIGITS),
        ("код 12-34-5", DIGITS),
        ("pesel 900 512", DIGITS),
        # e-mail addresses
        ("ivan.petrov@mail.ru", EMAIL),
        ("пишите на ivan@yandex.ru", EMAIL),
        ("jan.kowalski @ wp . pl", EMAIL),
        ("ivan (at) mail.ru", EMAIL),
        ("name+tag@example.co.uk", EMAIL),
        ("ivan＠mail.ru", EMAIL),  # a full-width at sign
        # street addresses, Russian
        ("живёт ул. Ленина, 5", ADDRESS),
        ("ул.Ленина,5", ADDRESS),
        ("улица Ленина 12", ADDRESS),
        ("на улице Мира, 3", ADDRESS),
        ("пр-т Мира 3", ADDRESS),
        ("проспект Вернадского 86", ADDRESS),
        ("д. 5", ADDRESS),
        ("дом 12", ADDRESS),
        ("кв.7", ADDRESS),
        ("квартира 15", ADDRESS),
        ("корп. 2", ADDRESS),
        # Polish
        ("mieszka ul. Długa 5", ADDRESS),
        ("ul.Długa 5 m. 3", ADDRESS),
        ("al. Jana Pawła II 12", ADDRESS),
        ("aleje Jerozolimskie 12", ADDRESS),
        ("ulica Marszałkowska 10", ADDRESS),
        ("os. Piastów 4", ADDRESS),
        # English
        ("lives at 12 Baker Street", ADDRESS),
        ("221b baker st.", ADDRESS),
        ("14 Main Rd.", ADDRESS),
        ("Avenue Foch 7", ADDRESS),
        ("flat 4", ADDRESS),
        ("apt. 12", ADDRESS),
    ],
)
def test_personal_data_is_seen(text: str, kind: PersonalData) -> None:
    assert personal_data(text) is kind


@pytest.mark.parametrize(
    "text",
    [
        "",
        "age 30-40",
        "age 30 - 40, 2 kids",
        "возраст 30-40 лет, 2 ребёнка",
        "wiek 30-40 lat",
        "called 3 times in 2 days",
        "open 24/7",
        "talked for 45 minutes, calmer at the end",
        "в 2024 году переехал",
        "between 10:30-11:45",
        "kids 2, 3 and 4",
        "2 days on the road",
        "30 minutes in the street",
        "на улице 2 часа",
        "ушёл из дома 2 дня назад",
        "1st call, 2nd time this week",
        "St. Petersburg",
        "risk 3 of 5",
        "dzwoni 3 raz w tym tygodniu",
        "mieszka sam, 2 lata po rozwodzie",
        "по шкале 7/10",
        "e-mail not given",
        "was @ work",
    ],
)
def test_what_a_note_says_without_personal_data_passes(text: str) -> None:
    assert personal_data(text) is None


def test_four_digits_pass_five_do_not() -> None:
    assert personal_data("1234") is None
    assert personal_data("12-34") is None
    assert personal_data("1234 5") is DIGITS
    assert personal_data("12 34 5") is DIGITS


def test_the_finding_never_holds_the_text() -> None:
    assert str(personal_data("перезвонить +7 900 000-00-01")) == "a phone number"
