"""How long a caller who presses nothing takes to reach a human.

A person in crisis, or an elderly caller, may not press anything: the menu must then hand them
to a person soon. The silent walk follows the engine (ivr/engine.py) with no key pressed, and
adds up what the caller hears (each prompt's audio, as long as the files the line plays) and the
time each menu waits for a key. Validation refuses a document whose silent walk is longer than
its ``silence_limit_seconds`` (default 15 s); the editor shows the figure from every node.
"""

from __future__ import annotations

import wave
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from ivr.document import IvrDocument
from ivr.engine import Ask, Engine, Route
from ivr.issues import Issue
from ivr.prompts import PromptError, PromptStudio

# (prompt id, language) -> its audio's length in seconds; None where not known (then estimated).
Durations = Callable[[str, str], float | None]

WORDS_PER_MINUTE = 110  # espeak-ng at 150 (its default), as measured: the estimate without audio
SILENCE_PROBLEM = "a caller who presses nothing reaches a person after"  # how its issue begins
CORE_SOUND_SECONDS = 1.0  # one of Asterisk's own sounds (a beep, a digit)
_LABEL = "\x00"  # prompt labels in the walk: "<lang>\x00<prompt id>"; Asterisk's own are bare


@dataclass(frozen=True)
class SilentStep:
    node: str
    prompts: tuple[str, ...]
    language: str
    audio_seconds: float
    wait_seconds: float


@dataclass(frozen=True)
class SilentWalk:
    """From ``start``: the menus heard, and where the walk ends (a queue here, or a partner
    line's referral: a person either way)."""

    start: str
    steps: tuple[SilentStep, ...]
    announce_seconds: float
    route: Route

    @property
    def seconds(self) -> float:
        return sum(s.audio_seconds + s.wait_seconds for s in self.steps) + self.announce_seconds


def estimate(doc: IvrDocument, durations: Durations | None = None) -> Durations:
    """``durations`` where it knows a prompt, else the text's words at the default speed."""

    def seconds(prompt: str, language: str) -> float | None:
        known = durations(prompt, language) if durations is not None else None
        if known is not None:
            return known
        source = doc.prompts.get(prompt, {}).get(language)
        if source is None or source.text is None:
            return None
        return len(source.text.split()) * 60 / WORDS_PER_MINUTE + 0.3

    return seconds


def rendered(doc: IvrDocument, studio: PromptStudio) -> Durations:
    """The prompts' lengths as the line plays them: the studio's speech for a text (made and
    cached as publishing makes it), an uploaded recording's length; None where neither can be
    had (a voice missing, a recording gone): then the words are counted instead."""

    def seconds(prompt: str, language: str) -> float | None:
        source = doc.prompts.get(prompt, {}).get(language)
        try:
            if source is not None and source.recording is not None:
                path = str(studio.path_for(prompt, language, source.recording)) + ".wav"
                with wave.open(path, "rb") as wav:
                    return wav.getnframes() / wav.getframerate()
            if source is not None and source.text is not None:
                return studio.synthesize(prompt, language, source.text).duration_seconds
        except (PromptError, OSError, wave.Error):
            pass
        return None

    return seconds


def silent_walk(
    doc: IvrDocument,
    durations: Durations | None = None,
    start: str | None = None,
    at: datetime | None = None,
    language: str | None = None,
) -> SilentWalk:
    """The walk of a caller who presses nothing, from ``start`` (the entry node by default).
    The document must be valid (ivr/validation.py)."""
    seconds = estimate(doc, durations)
    labels = {(p, lang): f"{lang}{_LABEL}{p}" for p, by_lang in doc.prompts.items() for lang in by_lang}
    walk = Engine(0, doc, labels).walk(at or datetime.now(UTC), language)
    first = start or doc.menu.entry
    step: Ask | Route = walk.start(first)
    steps: list[SilentStep] = []
    while isinstance(step, Ask):
        audio = sum(_heard(label, seconds) for label in step.prompts)
        steps.append(SilentStep(step.node, step.prompts, step.language, audio, step.timeout_ms / 1000))
        step = walk.answer("")
    announce = sum(_heard(label, seconds) for label in step.announce)
    return SilentWalk(first, tuple(steps), announce, step)


def silent_seconds_by_node(doc: IvrDocument, durations: Durations | None = None) -> dict[str, float]:
    """For every menu node, how long a caller who goes silent there takes to reach a human."""
    return {node: round(silent_walk(doc, durations, start=node).seconds, 1) for node in doc.menu.nodes}


def silence_issues(doc: IvrDocument, durations: Durations | None = None) -> list[Issue]:
    """A valid document's silent walk from the entry node, against its limit."""
    walk = silent_walk(doc, durations)
    limit = doc.silence_limit_seconds
    where = " > ".join(dict.fromkeys(s.node for s in walk.steps)) or doc.menu.entry
    if walk.seconds > limit:
        heard = ", ".join(f"{s.node} {s.audio_seconds:.1f} s + {s.wait_seconds:g} s wait" for s in walk.steps)
        return [
            Issue(
                where,
                f"{SILENCE_PROBLEM} {walk.seconds:.1f} s, over the"
                f" limit of {limit} s ({heard}): shorten the prompts, the waits or the tries",
            )
        ]
    return []


def _heard(label: str, seconds: Durations) -> float:
    lang, sep, prompt = label.partition(_LABEL)
    if not sep:  # one of Asterisk's own sounds (the engine strips "core:")
        return CORE_SOUND_SECONDS
    return seconds(prompt, lang) or 0.0
