"""Prompt audio with the real espeak-ng and sox: what Asterisk gets is 8 kHz mono 16-bit WAV."""

from __future__ import annotations

import random
import subprocess
from pathlib import Path

import pytest

from ivr import prompts
from ivr.prompts import PromptError, PromptFile, PromptStudio

WELCOME_RU = "Здравствуйте. Вы позвонили на линию помощи."
WELCOME_EN = "Hello. You have reached the help line."


@pytest.fixture
def studio(tmp_path: Path) -> PromptStudio:
    return PromptStudio(tmp_path / "sounds")


def soxi(path: Path, flag: str) -> str:
    return subprocess.run(
        ["soxi", flag, str(path)], capture_output=True, check=True, text=True
    ).stdout.strip()


def make_audio(tmp_path: Path, name: str, *synth: str, rate: int = 8000, channels: int = 1) -> bytes:
    path = tmp_path / name
    argv = ["sox", "-n", "-r", str(rate), "-c", str(channels), str(path), "synth", *synth]
    subprocess.run(argv, check=True, capture_output=True)
    return path.read_bytes()


def assert_plays_in_asterisk(prompt: PromptFile) -> None:
    wav = prompt.path.with_name(prompt.path.name + ".wav")
    assert prompt.path.is_absolute() and not prompt.path.suffix
    assert wav.is_file()
    assert (soxi(wav, "-r"), soxi(wav, "-c"), soxi(wav, "-b")) == ("8000", "1", "16")
    seconds = float(soxi(wav, "-D"))
    assert seconds > 0.3
    assert seconds == pytest.approx(prompt.duration_seconds, abs=0.05)
    assert prompt.path.name == f"{prompt.prompt_id}-{prompt.sha256[:12]}"


@pytest.mark.parametrize(("language", "text"), [("ru", WELCOME_RU), ("en", WELCOME_EN)], ids=["ru", "en"])
def test_synthesized_text_becomes_asterisk_wav(studio: PromptStudio, language: str, text: str) -> None:
    prompt = studio.synthesize("welcome", language, text)
    assert_plays_in_asterisk(prompt)
    assert prompt.path == studio.path_for("welcome", language, prompt.sha256)
    assert prompt.path.parent.name == language


def test_same_text_is_a_cache_hit_and_new_text_a_new_file(
    studio: PromptStudio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = studio.synthesize("welcome", "ru", WELCOME_RU)
    wav = first.path.with_name(first.path.name + ".wav")
    mtime = wav.stat().st_mtime_ns
    with monkeypatch.context() as no_tools:
        no_tools.setenv("PATH", str(tmp_path))  # a cache hit runs neither espeak-ng nor sox
        again = studio.synthesize("welcome", "ru", WELCOME_RU.replace(" ", "\n  "))
    assert again == first
    assert wav.stat().st_mtime_ns == mtime
    changed = studio.synthesize("welcome", "ru", WELCOME_RU + " Говорите.")
    assert changed.path != first.path
    assert wav.is_file()  # the old version stays for calls still playing it


def test_languages_of_one_prompt_differ(studio: PromptStudio) -> None:
    russian = studio.synthesize("welcome", "ru", "Добрый день")
    english = studio.synthesize("welcome", "en", "Good day")
    assert russian.sha256 != english.sha256
    assert russian.path.parent != english.path.parent


def test_upload_is_converted_to_8k_mono(studio: PromptStudio, tmp_path: Path) -> None:
    data = make_audio(tmp_path, "tone.wav", "1.5", "sine", "440", rate=44100, channels=2)
    prompt = studio.accept_upload("hold", "ru", data, "Tone Recording.WAV")
    assert_plays_in_asterisk(prompt)
    assert prompt.duration_seconds == pytest.approx(1.5, abs=0.01)


def test_ogg_upload_is_read_by_its_bytes_not_its_name(studio: PromptStudio, tmp_path: Path) -> None:
    data = make_audio(tmp_path, "tone.ogg", "1", "sine", "300", rate=16000)
    assert_plays_in_asterisk(studio.accept_upload("hold", "de", data, "tone.wav"))


def test_long_upload_is_rejected_with_its_length(studio: PromptStudio, tmp_path: Path) -> None:
    data = make_audio(tmp_path, "long.wav", "40", "sine", "440")
    with pytest.raises(PromptError) as caught:
        studio.accept_upload("welcome", "ru", data, "long.wav")
    assert str(caught.value) == ("prompt 'welcome' (ru): recording is 40.0 s long; at most 30 s allowed")
    assert caught.value.error_id == "prompt_invalid"


@pytest.mark.parametrize(
    ("synth", "problem"),
    [
        (("1", "sine", "440", "vol", "0"), "silent"),
        (("0.1", "sine", "440"), "0.10 s long; at least 0.2 s required"),
    ],
)
def test_silent_or_short_uploads_are_rejected(
    studio: PromptStudio, tmp_path: Path, synth: tuple[str, ...], problem: str
) -> None:
    data = make_audio(tmp_path, "bad.wav", *synth)
    with pytest.raises(PromptError, match=problem):
        studio.accept_upload("welcome", "ru", data, "bad.wav")


@pytest.mark.parametrize("filename", ["noise.wav", "noise.bin", "noise"])
def test_random_bytes_are_not_audio(studio: PromptStudio, filename: str) -> None:
    data = b"junk" + random.Random(7).randbytes(4000)
    with pytest.raises(PromptError, match="is not an audio file sox can read"):
        studio.accept_upload("welcome", "ru", data, filename)


def test_huge_upload_is_rejected_unread(studio: PromptStudio) -> None:
    with pytest.raises(PromptError, match="at most 20 MB"):
        studio.accept_upload("welcome", "ru", bytes(21 * 2**20), "big.wav")


@pytest.mark.parametrize(("prompt_id", "language"), [("../x", "ru"), ("Welcome", "ru"), ("welcome", "../ru")])
def test_bad_ids_are_rejected_before_touching_disk(tmp_path: Path, prompt_id: str, language: str) -> None:
    studio = PromptStudio(tmp_path / "sounds")
    with pytest.raises(PromptError, match="must match"):
        studio.accept_upload(prompt_id, language, b"RIFF", "../../etc/x.wav")
    with pytest.raises(PromptError, match="must match"):
        studio.synthesize(prompt_id, language, "hello")
    assert not (tmp_path / "sounds").exists()


def test_unknown_language_names_the_known_ones(studio: PromptStudio) -> None:
    with pytest.raises(PromptError, match=r"no voice for language 'fr'; known languages: de, en"):
        studio.synthesize("welcome", "fr", "Bonjour")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "text is empty"),
        (" \n\t ", "text is empty"),
        ("hello\x00world", "control character U\\+0000 at position 5"),
        ("x" * 1001, "1001 characters long; at most 1000"),
    ],
)
def test_bad_text_is_rejected(studio: PromptStudio, text: str, problem: str) -> None:
    with pytest.raises(PromptError, match=problem):
        studio.synthesize("welcome", "en", text)


def test_text_starting_with_a_dash_is_spoken_not_an_option(studio: PromptStudio) -> None:
    assert_plays_in_asterisk(studio.synthesize("menu", "en", "--help, press one"))


def test_path_for_is_the_deterministic_layout(studio: PromptStudio, tmp_path: Path) -> None:
    sha = "3fa2b1c4" + "0" * 56
    expected = (tmp_path / "sounds" / "ru" / "welcome-3fa2b1c40000").resolve()
    assert studio.path_for("welcome", "ru", sha) == expected
    with pytest.raises(PromptError, match="sha256"):
        studio.path_for("welcome", "ru", "3fa2b1c4")


def test_missing_tool_names_the_debian_package(
    studio: PromptStudio, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(PromptError, match="espeak-ng is not installed; install the Debian package"):
        studio.synthesize("welcome", "en", "Nobody can say this")


def test_a_slow_tool_is_stopped(studio: PromptStudio, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prompts, "TOOL_TIMEOUT_SECONDS", 1e-6)
    with pytest.raises(PromptError, match="did not finish within"):
        studio.synthesize("welcome", "en", "Too slow to say")


def test_mp3_without_sox_support_says_what_to_install(studio: PromptStudio) -> None:
    if "mp3" in prompts._sox_formats():
        pytest.skip("this sox reads MP3")
    with pytest.raises(PromptError, match="cannot read MP3 files; upload WAV or install"):
        studio.accept_upload("welcome", "ru", b"ID3\x04" + bytes(200), "welcome.mp3")
