# ruff: noqa: RUF001  (Cyrillic letters and typographic apostrophes in the patterns are meant)
"""Personal data in a free text: what an operator's note must not hold (issue 16, item 4).

The after-call summary is enumerated values; where a line turns free text on, a text is refused
when it looks like it holds something that can find a person: a phone number, an e-mail
address, a long run of digits (five or more, spaces, dashes, dots, slashes or brackets between
them allowed: a number dictated in pieces, a date of birth, a document number) or a street
address (Russian, Polish, English: a street word or abbreviation with a number, or a house,
flat or building number).

It errs towards refusing: a refused note is rewritten in words; a kept one stays in the
records. What it cannot see (a name, a number written in words, an address without a number)
is the operator's training. :func:`personal_data` says what kind it found, never the text.
"""

from __future__ import annotations

import re
import unicodedata
from enum import StrEnum
from typing import Final


class PersonalData(StrEnum):
    PHONE = "a phone number"
    EMAIL = "an e-mail address"
    DIGITS = "a long run of digits"
    ADDRESS = "a street address"


MIN_DIGITS: Final = 5  # a run of this many digits is refused
PHONE_DIGITS: Final = 9  # ... and called a phone number from this many, or after a '+'

_SEP = r"[\s\-\u2010-\u2015.()/_]{1,3}"
_DIGIT_RUN: Final = re.compile(rf"\+?\s*\d(?:(?:{_SEP})?\d)+")
_EMAIL: Final = re.compile(r"[\w.+-]+\s*(?:@|\(at\)|\[at\])\s*[\w-]+(?:\s*\.\s*[\w-]+)+", re.IGNORECASE)
_WORD = r"[\w'’.-]*"  # the rest of a name: letters, apostrophes, dots, hyphens
_NUMBER = r"\d{1,5}(?:\s?[a-zа-яё])?\b"
# A street abbreviation, its name in up to three words, then a number: "ул. Ленина, 5",
# "ul. Długa 5", "al. Jana Pawła II 12", "пр-т мира 3".
_STREET_ABBREVIATIONS = (
    r"ул\.?|пр-т|просп\.|пер\.|бул\.|б-р|ш\.|наб\.|мкр\.?|ul\.?|al\.|os\.|pl\.|st\.|ave\.|rd\.|blvd\."
)
_ABBREVIATED: Final = re.compile(
    rf"(?<![\w.])(?:{_STREET_ABBREVIATIONS})(?:(?<=\.)|(?![^\W\d_]))[\s,]*(?:[^\W\d_]{_WORD}[\s,]+){{0,3}}№?\s*{_NUMBER}",
    re.IGNORECASE,
)
# A street word in full, a capitalised name, then a number: "улица Ленина 5", "на улице Мира,
# 3", "ulica Długa 5", "aleje Jerozolimskie 12", "Avenue Foch 7" (not "на улице 2 часа").
_STREET_WORDS = (
    r"улиц\w*|проспект\w*|переул\w*|бульвар\w*|шоссе|набережн\w*|микрорайон\w*|"
    r"ulic\w*|alej\w*|alei|osiedl\w*|plac\w*|street|avenue|road|boulevard|lane"
)
_CAPITAL = "[A-ZА-ЯЁĄĆĘŁŃÓŚŹŻ]"
_IN_FULL: Final = re.compile(
    rf"(?<!\w)(?i:{_STREET_WORDS})(?!\w)[\s,]+{_CAPITAL}{_WORD}(?:[\s,]+[^\W\d_]{_WORD}){{0,2}}"
    rf"[\s,]+№?\s*(?i:{_NUMBER})"
)
# A house, flat or building number: "д. 5", "дом 12", "кв.7", "корп. 2", "m. 3", "flat 4".
_UNIT_WORDS = (
    r"д\.|дом|кв\.?|квартира|корп\.?|корпус|стр\.|строение|"
    r"m\.|lok\.|mieszkanie|"
    r"apt\.?|apartment|flat|house\s+no\.?|no\."
)
_UNIT: Final = re.compile(
    rf"(?<![\w.])(?:{_UNIT_WORDS})(?:(?<=\.)|(?![^\W\d_]))\s*№?\s*{_NUMBER}", re.IGNORECASE
)
# English puts the number first: "12 baker street", "221b Baker St." (not "2 days on the road").
_STOP = r"(?:the|a|an|on|in|at|of|to|for|and|or|by|my|his|her|their|our|your|this|that)"
_NUMBER_FIRST: Final = re.compile(
    rf"\b\d{{1,5}}[a-z]?\s+(?:(?!{_STOP}\b)[a-z][\w'-]*\s+){{1,3}}"
    r"(?:street|st\b\.?|avenue|ave\b\.?|road|rd\b\.?|lane|boulevard|blvd\b\.?)\b",
    re.IGNORECASE,
)


def personal_data(text: str) -> PersonalData | None:
    """What ``text`` seems to hold that can find a person; None when nothing is seen."""
    plain = unicodedata.normalize("NFKC", text)  # full-width digits and at signs, ligatures
    if _EMAIL.search(plain):
        return PersonalData.EMAIL
    found = _digits(plain)
    if found is not None:
        return found
    if any(p.search(plain) for p in (_ABBREVIATED, _IN_FULL, _UNIT, _NUMBER_FIRST)):
        return PersonalData.ADDRESS
    return None


def _digits(text: str) -> PersonalData | None:
    for match in _DIGIT_RUN.finditer(text):
        run = match.group()
        count = sum(c.isdigit() for c in run)
        if count >= MIN_DIGITS:
            return PersonalData.PHONE if count >= PHONE_DIGITS or run.startswith("+") else PersonalData.DIGITS
    return None
