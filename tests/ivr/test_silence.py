"""A caller who presses nothing reaches a person soon (issue 20): the silent walk adds up the
prompts' real audio and the menus' waits, and validation refuses a menu over its limit."""

from __future__ import annotations

import io
import math
import wave
from pathlib import Path

import pytest

from ivr.codec import from_yaml
from ivr.document import SILENCE_LIMIT_SECONDS, IvrDocument
from ivr.prompts import PromptStudio
from ivr.silence import Durations, rendered, silent_seconds_by_node, silent_walk
from ivr.validation import validate
from tests.conftest import ROOT

DEMO = from_yaml((ROOT / "hotline-ivr.yaml").read_text(encoding="utf-8"))
OLD = from_yaml((ROOT / "tests" / "menu.yaml").read_text(encoding="utf-8"))  # the demo before


def espeak(doc: IvrDocument, directory: Path) -> Durations:
    """The prompts' lengths as espeak-ng renders them for the line (as publishing does)."""
    return rendered(doc, PromptStudio(directory))


def test_the_demos_silent_caller_reaches_a_counsellor_within_the_limit(tmp_path: Path) -> None:
    durations = espeak(DEMO, tmp_path)
    walk = silent_walk(DEMO, durations)
    assert [(s.node, s.prompts) for s in walk.steps] == [
        ("language", ("ru\x00language", "en\x00language")),  # both languages say themselves
        ("root", ("ru\x00welcome",)),
    ]
    assert walk.route.queue == "main" and walk.route.reason == "no_input"
    heard = durations("language", "ru") + durations("language", "en") + durations("welcome", "ru")  # type: ignore[operator]
    assert walk.seconds == pytest.approx(heard + 1 + 2)  # the two menus' waits
    assert walk.seconds <= SILENCE_LIMIT_SECONDS == DEMO.silence_limit_seconds
    assert validate(DEMO, durations) == []


def test_a_menu_over_the_limit_is_refused_and_the_problem_says_where_and_how_long(tmp_path: Path) -> None:
    strict = OLD.model_copy(update={"silence_limit": None})  # the default 15 s
    [issue] = validate(strict, espeak(strict, tmp_path))
    assert issue.where == "language > root"
    assert "after 4" in issue.problem or "after 5" in issue.problem  # about 46-56 s
    assert "over the limit of 15 s" in issue.problem and "welcome" not in issue.where
    assert "root" in issue.problem and "s wait" in issue.problem
    # The line's own limit (the test menu says 90 s) is what counts.
    assert validate(OLD, espeak(OLD, tmp_path)) == []


def test_without_audio_the_length_is_estimated_from_the_words_on_the_safe_side(tmp_path: Path) -> None:
    real = silent_walk(DEMO, espeak(DEMO, tmp_path)).seconds
    estimated = silent_walk(DEMO).seconds
    assert real <= estimated <= real * 1.4


def test_the_figure_from_every_node(tmp_path: Path) -> None:
    by_node = silent_seconds_by_node(DEMO, espeak(DEMO, tmp_path))
    assert set(by_node) == set(DEMO.menu.nodes)
    assert by_node["root"] < by_node["language"] <= SILENCE_LIMIT_SECONDS
    # The topics' menu is long, asked twice: a caller who chose it hears it all before a person.
    assert by_node["topics"] > by_node["language"]


def test_a_silent_walk_that_repeats_itself_still_ends_at_a_person() -> None:
    data = OLD.model_dump(mode="json", exclude_none=True)
    data["menu"]["nodes"]["root"]["no_input"] = {"action": "repeat"}
    walk = silent_walk(IvrDocument.model_validate(data))
    assert walk.route.queue == "main" and walk.route.reason == "too_many_steps"


def test_an_uploaded_recording_counts_with_its_own_length(tmp_path: Path) -> None:
    """A line that records its greeting: the recording's length, not the text's, is heard."""
    studio = PromptStudio(tmp_path)
    rate, seconds = 8000, 6.0
    tone = bytes(int(128 + 60 * math.sin(2 * math.pi * 440 * n / rate)) for n in range(int(rate * seconds)))
    upload = io.BytesIO()
    with wave.open(upload, "wb") as out:
        out.setparams((1, 1, rate, 0, "NONE", "not compressed"))
        out.writeframes(tone)
    recorded = studio.accept_upload("welcome", "ru", upload.getvalue(), "greeting.wav")
    data = DEMO.model_dump(mode="json", exclude_none=True)
    data["prompts"]["welcome"]["ru"] = {"recording": recorded.sha256}
    doc = IvrDocument.model_validate(data)
    durations = rendered(doc, studio)
    assert durations("welcome", "ru") == pytest.approx(seconds, abs=0.05)
    english = DEMO.prompts["welcome"]["en"].text or ""
    assert durations("welcome", "en") == studio.synthesize("welcome", "en", english).duration_seconds
    assert durations("nothing", "ru") is None
    walk = silent_walk(doc, durations)
    assert walk.steps[1].audio_seconds == pytest.approx(seconds, abs=0.05)
