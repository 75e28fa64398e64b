"""The TTS voice for each language and the speed come from ``tts:`` in the settings (issue 19,
item 3): Polish is spoken by espeak-ng's Polish voice; a slower speed for one language gives
longer prompts in that language only; a wrong voice or speed is refused where it is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.settings import SettingsError
from ivr.prompts import PromptError, PromptStudio, Voices
from tests.conftest import make_settings
from tests.ivr.test_prompts import assert_plays_in_asterisk

WELCOME_PL = "Dzień dobry. Dodzwoniłeś się do telefonu zaufania."
WELCOME_RU = "Здравствуйте. Вы позвонили на линию помощи."


def test_polish_is_spoken_with_the_polish_voice_by_default(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    studio = PromptStudio(tmp_path / "sounds", Voices.of(settings.tts))
    prompt = studio.synthesize("welcome", "pl", WELCOME_PL)
    assert_plays_in_asterisk(prompt)
    assert prompt.duration_seconds > 1.5


def test_a_slower_speed_for_one_language_lengthens_only_its_prompts(tmp_path: Path) -> None:
    slow = make_settings(tmp_path, tts={"speed_by_language": {"ru": 100}})
    studio = PromptStudio(tmp_path / "sounds", Voices.of(slow.tts))
    usual = PromptStudio(tmp_path / "usual", Voices.of(make_settings(tmp_path).tts))
    slower_ru = studio.synthesize("welcome", "ru", WELCOME_RU).duration_seconds
    usual_ru = usual.synthesize("welcome", "ru", WELCOME_RU).duration_seconds
    assert slower_ru > usual_ru * 1.3  # 100 words a minute against 150
    same_pl = studio.synthesize("welcome", "pl", WELCOME_PL).duration_seconds
    assert abs(same_pl - usual.synthesize("welcome", "pl", WELCOME_PL).duration_seconds) < 0.05


def test_a_language_without_a_voice_says_which_languages_have_one(tmp_path: Path) -> None:
    studio = PromptStudio(
        tmp_path / "sounds", Voices.of(make_settings(tmp_path, tts={"voices": {"ru": "ru"}}).tts)
    )
    with pytest.raises(PromptError, match="no voice for language 'pl'; known languages: ru"):
        studio.synthesize("welcome", "pl", WELCOME_PL)


@pytest.mark.parametrize(
    ("tts", "says"),
    [
        ({"voices": {"polish": "pl"}}, "'polish' is not a language code"),
        ({"voices": {"pl": "pl; rm -rf /"}}, "is not an espeak-ng voice name"),
        ({"speed_by_language": {"ru": 20}}, "tts.speed_by_language.ru: 20 words/min"),
        ({"speed": 1000}, "speed"),
    ],
)
def test_a_wrong_voice_or_speed_is_refused_where_it_is_written(
    tmp_path: Path, tts: dict[str, object], says: str
) -> None:
    with pytest.raises(SettingsError, match=says):
        make_settings(tmp_path, tts=tts)
