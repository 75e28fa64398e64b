"""``tts:`` in hotline.yaml: how prompts' texts are spoken (espeak-ng, ivr/prompts.py): the voice
for each language the IVR document speaks, and the speed. A line for elderly callers speaks
slower; a line with another language names its voice here (``espeak-ng --voices`` lists them)."""

from __future__ import annotations

import re

from pydantic import BaseModel, Field, field_validator

_VOICE = re.compile(r"^[A-Za-z0-9_+/-]{1,40}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


def default_voices() -> dict[str, str]:
    return {"ru": "ru", "pl": "pl", "en": "en-gb", "uk": "uk", "de": "de"}


class TtsSettings(BaseModel):
    voices: dict[str, str] = Field(default_factory=default_voices)  # language code -> espeak-ng voice
    speed: int = Field(150, ge=80, le=450)  # words per minute, every language
    # Per language, where it differs (e.g. {"ru": 130} for a line of elderly callers).
    speed_by_language: dict[str, int] = Field(default_factory=dict)

    @field_validator("voices")
    @classmethod
    def _voices(cls, value: dict[str, str]) -> dict[str, str]:
        for language, voice in value.items():
            if not _LANGUAGE.match(language):
                raise ValueError(f"tts.voices: {language!r} is not a language code (ru, pl, en, …)")
            if not _VOICE.match(voice):
                raise ValueError(f"tts.voices.{language}: {voice!r} is not an espeak-ng voice name")
        return value

    @field_validator("speed_by_language")
    @classmethod
    def _speeds(cls, value: dict[str, int]) -> dict[str, int]:
        for language, speed in value.items():
            if not 80 <= speed <= 450:
                raise ValueError(f"tts.speed_by_language.{language}: {speed} words/min is outside 80..450")
        return value
