"""Prompt audio that Asterisk plays: synthesized from text with espeak-ng, or uploaded and checked.

Every prompt ends as an 8 kHz mono 16-bit signed PCM WAV (what ``format_wav`` plays) at
``<directory>/<language>/<prompt_id>-<first 12 hex of sha256>.wav``. The name follows the bytes,
so a new version never overwrites a file that calls in progress may still be playing; Asterisk
gets the path without its extension (:attr:`PromptFile.path`). Files are written atomically and
never rewritten. Synthesis is cached by text, voice, speed and tool versions, so publishing the
same text again runs no tool at all.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import io
import json
import os
import re
import subprocess
import tempfile
import unicodedata
import wave
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from types import MappingProxyType

from core.errors import DomainError
from core.tts_settings import TtsSettings, default_voices

PROMPT_ID_PATTERN = re.compile(r"[a-z][a-z0-9_-]{0,39}")
LANGUAGE_PATTERN = re.compile(r"[a-z]{2,3}(-[a-z0-9]{2,8})?")
SHA256_PATTERN = re.compile(r"[0-9a-f]{64}")
MAX_TEXT_CHARS = 1000
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
TOOL_TIMEOUT_SECONDS = 30.0
SILENCE_PEAK = 10 ** (-50 / 20)  # -50 dBFS as a fraction of full scale
ASTERISK_FORMAT = ("-r", "8000", "-c", "1", "-b", "16", "-e", "signed-integer")
NORMALISE = ("gain", "-n", "-3")
DEBIAN_PACKAGES: Mapping[str, str] = MappingProxyType({"espeak-ng": "espeak-ng", "sox": "sox"})
_TEXT_WHITESPACE = "\t\n\r"
_FORBIDDEN_CATEGORIES = ("Cc", "Cs")
_MAGIC: tuple[tuple[bytes, bytes, str], ...] = (
    (b"RIFF", b"WAVE", "wav"),
    (b"RF64", b"WAVE", "wav"),
    (b"FORM", b"AIFF", "aiff"),
    (b"OggS", b"", "ogg"),
    (b"fLaC", b"", "flac"),
    (b"ID3", b"", "mp3"),
)
_EXTENSION_TYPES: Mapping[str, str] = MappingProxyType(
    {"wav": "wav", "wave": "wav", "ogg": "ogg", "oga": "ogg", "flac": "flac", "mp3": "mp3"}
    | {"aif": "aiff", "aiff": "aiff", "au": "au"}
)


class PromptError(DomainError, ValueError):
    """A prompt cannot be produced; the message names the prompt and what is wrong."""

    error_id = "prompt_invalid"
    status = 422

    def __init__(self, prompt_id: str, language: str, problem: str) -> None:
        shown = language if LANGUAGE_PATTERN.fullmatch(language) else repr(language[:40])
        super().__init__(f"prompt {prompt_id[:60]!r} ({shown}): {problem}")
        self.prompt_id = prompt_id
        self.language = language
        self.problem = problem


class _Problem(Exception):
    """What is wrong, raised before the prompt it concerns is named in a :class:`PromptError`."""


@dataclass(frozen=True)
class PromptFile:
    prompt_id: str
    language: str
    path: Path  # absolute, without extension: what STREAM FILE / Playback get
    sha256: str  # of the final WAV bytes
    duration_seconds: float


def _default_voices() -> Mapping[str, str]:
    return MappingProxyType(default_voices())


@dataclass(frozen=True)
class Voices:
    """The espeak-ng voice for each language code, and the speaking speed in words per minute
    (``speed_by_language`` where a language differs); from ``tts:`` in the settings."""

    by_language: Mapping[str, str] = field(default_factory=_default_voices)
    speed: int = 150
    speed_by_language: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for speed in (self.speed, *self.speed_by_language.values()):
            if not 80 <= speed <= 450:
                raise ValueError(f"speed {speed} words/min is outside 80..450")

    @classmethod
    def of(cls, settings: TtsSettings) -> Voices:
        return cls(MappingProxyType(dict(settings.voices)), settings.speed, dict(settings.speed_by_language))

    def speed_for(self, language: str) -> int:
        return self.speed_by_language.get(language, self.speed)

    def voice_for(self, language: str) -> str:
        voice = self.by_language.get(language)
        if voice is None:
            known = ", ".join(sorted(self.by_language)) or "none"
            raise _Problem(f"no voice for language {language!r}; known languages: {known}")
        return voice


class PromptStudio:
    """Produces prompt files under one directory that Asterisk can read."""

    def __init__(
        self,
        directory: Path,
        voices: Voices = Voices(),
        max_seconds: float = 30.0,
        min_seconds: float = 0.2,
    ) -> None:
        if not 0 < min_seconds < max_seconds:
            raise ValueError(f"need 0 < min_seconds < max_seconds: {min_seconds}, {max_seconds}")
        self._directory = directory.resolve()
        self._voices = voices
        self._max_seconds = max_seconds
        self._min_seconds = min_seconds

    def synthesize(self, prompt_id: str, language: str, text: str) -> PromptFile:
        try:
            return self._synthesize(prompt_id, language, text)
        except _Problem as exc:
            raise PromptError(prompt_id, language, str(exc)) from exc

    def accept_upload(self, prompt_id: str, language: str, data: bytes, filename: str) -> PromptFile:
        try:
            return self._accept_upload(prompt_id, language, data, filename)
        except _Problem as exc:
            raise PromptError(prompt_id, language, str(exc)) from exc

    @property
    def directory(self) -> Path:
        return self._directory

    def path_for(self, prompt_id: str, language: str, sha256: str) -> Path:
        """Where the prompt with these bytes lives, without the ``.wav`` Asterisk adds itself."""
        try:
            _check_ids(prompt_id, language)
        except _Problem as exc:
            raise PromptError(prompt_id, language, str(exc)) from exc
        if not SHA256_PATTERN.fullmatch(sha256):
            raise PromptError(prompt_id, language, "sha256 must be 64 lowercase hex digits")
        return self._path(prompt_id, language, sha256)

    def _path(self, prompt_id: str, language: str, sha256: str) -> Path:
        return self._directory / language / f"{prompt_id}-{sha256[:12]}"

    def _synthesize(self, prompt_id: str, language: str, text: str) -> PromptFile:
        _check_ids(prompt_id, language)
        spoken = _clean_text(text)
        voice = self._voices.voice_for(language)
        speed = self._voices.speed_for(language)
        key = _synthesis_key(spoken, voice, speed)
        cache = self._directory / ".cache" / language / f"{prompt_id}-{key[:32]}.json"
        cached = self._load_cached(prompt_id, language, cache)
        if cached is not None:
            return cached
        wav = _speak(spoken, voice, speed)
        if (seconds := _wav_seconds(wav)) < self._min_seconds:
            raise _Problem(f"speech is only {seconds:.2f} s long; is the text only punctuation?")
        prompt = self._publish(prompt_id, language, wav)
        entry = {"sha256": prompt.sha256, "duration_seconds": prompt.duration_seconds}
        _atomic_write(cache, json.dumps(entry).encode())
        return prompt

    def _load_cached(self, prompt_id: str, language: str, cache: Path) -> PromptFile | None:
        try:
            entry = json.loads(cache.read_bytes())
            sha256, seconds = str(entry["sha256"]), float(entry["duration_seconds"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        path = self._path(prompt_id, language, sha256)
        if not SHA256_PATTERN.fullmatch(sha256) or not _wav(path).is_file():
            return None
        return PromptFile(prompt_id, language, path, sha256, seconds)

    def _accept_upload(self, prompt_id: str, language: str, data: bytes, filename: str) -> PromptFile:
        _check_ids(prompt_id, language)
        if len(data) > MAX_UPLOAD_BYTES:
            raise _Problem(f"upload {filename[:80]!r} is {len(data) / 2**20:.1f} MB; at most 20 MB")
        kind = _upload_type(data, filename)
        with tempfile.TemporaryDirectory(prefix="prompt-") as work:
            upload, converted = Path(work) / "upload", Path(work) / "converted.wav"
            upload.write_bytes(data)
            self._check_recording(upload, kind, filename)
            _convert(upload, converted, kind)
            return self._publish(prompt_id, language, converted.read_bytes())

    def _check_recording(self, upload: Path, kind: str, filename: str) -> None:
        seconds, peak = _measure(upload, kind, filename)
        if seconds > self._max_seconds:
            raise _Problem(f"recording is {seconds:.1f} s long; at most {self._max_seconds:g} s allowed")
        if seconds < self._min_seconds:
            raise _Problem(f"recording is {seconds:.2f} s long; at least {self._min_seconds:g} s required")
        if peak < SILENCE_PEAK:
            raise _Problem("recording is silent: its loudest sample is below -50 dBFS")

    def _publish(self, prompt_id: str, language: str, wav: bytes) -> PromptFile:
        sha256 = hashlib.sha256(wav).hexdigest()
        path = self._path(prompt_id, language, sha256)
        if not _wav(path).is_file():  # same name, same bytes: nothing to do
            _atomic_write(_wav(path), wav)
        return PromptFile(prompt_id, language, path, sha256, _wav_seconds(wav))


def _check_ids(prompt_id: str, language: str) -> None:
    if not PROMPT_ID_PATTERN.fullmatch(prompt_id):
        raise _Problem(f"prompt id must match ^{PROMPT_ID_PATTERN.pattern}$")
    if not LANGUAGE_PATTERN.fullmatch(language):
        raise _Problem(f"language must match ^{LANGUAGE_PATTERN.pattern}$")


def _clean_text(text: str) -> str:
    """The text as espeak-ng gets it: whitespace collapsed; control characters refused."""
    if len(text) > MAX_TEXT_CHARS:
        raise _Problem(f"text is {len(text)} characters long; at most {MAX_TEXT_CHARS} allowed")
    for position, char in enumerate(text):
        if unicodedata.category(char) in _FORBIDDEN_CATEGORIES and char not in _TEXT_WHITESPACE:
            raise _Problem(f"text has control character U+{ord(char):04X} at position {position}")
    spoken = " ".join(text.split())
    if not spoken:
        raise _Problem("text is empty")
    return spoken


def _synthesis_key(text: str, voice: str, speed: int) -> str:
    parts = {
        "text": text,
        "voice": voice,
        "speed": speed,
        "espeak-ng": _tool_version("espeak-ng"),
        "sox": _tool_version("sox"),
        "pipeline": [*ASTERISK_FORMAT, *NORMALISE],
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _speak(text: str, voice: str, speed: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="prompt-") as work:
        spoken, converted = Path(work) / "espeak.wav", Path(work) / "converted.wav"
        argv = ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(spoken), "--", text]
        _run(argv, f"espeak-ng failed with voice {voice!r}")
        _convert(spoken, converted, "wav")
        return converted.read_bytes()


def _convert(source: Path, target: Path, kind: str) -> None:
    """Any audio sox reads -> 8 kHz mono 16-bit WAV, peak -3 dBFS; -R makes the bytes repeatable."""
    argv = ["sox", "-R", "-t", kind, str(source), *ASTERISK_FORMAT, str(target), *NORMALISE]
    _run(argv, "sox could not convert the audio")


def _upload_type(data: bytes, filename: str) -> str:
    """The sox type of an upload: its magic bytes first; the filename's extension only as a hint."""
    kind = next((k for head, sub, k in _MAGIC if data.startswith(head) and data[8:12].startswith(sub)), None)
    kind = kind or _EXTENSION_TYPES.get(PurePath(filename).suffix.lower().lstrip("."))
    if kind is None:
        raise _Problem(f"{filename[:80]!r} is not an audio file sox can read")
    if kind not in _sox_formats():
        raise _Problem(
            f"the installed sox cannot read {kind.upper()} files; upload WAV or install "
            "the Debian package 'libsox-fmt-all'"
        )
    return kind


def _measure(upload: Path, kind: str, filename: str) -> tuple[float, float]:
    """Length in seconds and peak amplitude (0..1) from ``sox ... -n stat``."""
    done = _run(
        ["sox", "-t", kind, str(upload), "-n", "stat"],
        f"{filename[:80]!r} is not an audio file sox can read",
    )
    stats: dict[str, float] = {}
    for line in done.stderr.decode(errors="replace").splitlines():
        name, _, value = line.partition(":")
        with contextlib.suppress(ValueError):
            stats[name.strip()] = float(value)
    try:
        peak = max(abs(stats["Maximum amplitude"]), abs(stats["Minimum amplitude"]))
        return stats["Length (seconds)"], peak
    except KeyError as exc:
        raise _Problem(f"sox stat did not report {exc} for {filename[:80]!r}") from exc


@functools.cache
def _tool_version(tool: str) -> str:
    done = _run([tool, "--version"], f"{tool} --version failed")
    return (done.stdout or done.stderr).decode(errors="replace").strip()


@functools.cache
def _sox_formats() -> frozenset[str]:
    done = _run(["sox", "--help"], "sox --help failed")
    for line in done.stdout.decode(errors="replace").splitlines():
        if line.startswith("AUDIO FILE FORMATS:"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def _run(argv: Sequence[str], failure: str) -> subprocess.CompletedProcess[bytes]:
    """Run a tool without a shell; any failure becomes a :class:`_Problem` saying what failed."""
    tool = argv[0]
    try:
        done = subprocess.run(
            argv,
            capture_output=True,
            timeout=TOOL_TIMEOUT_SECONDS,
            check=False,
            env={**os.environ, "LC_ALL": "C"},  # sox prints numbers we parse
        )
    except FileNotFoundError as exc:
        package = DEBIAN_PACKAGES.get(tool, tool)
        raise _Problem(f"{tool} is not installed; install the Debian package {package!r}") from exc
    except subprocess.TimeoutExpired as exc:
        raise _Problem(f"{tool} did not finish within {TOOL_TIMEOUT_SECONDS:g} s") from exc
    if done.returncode != 0:
        raise _Problem(f"{failure} ({_trim(done.stderr or done.stdout)})")
    return done


def _trim(output: bytes, limit: int = 300) -> str:
    text = " ".join(output.decode(errors="replace").split())
    return text if len(text) <= limit else f"{text[:limit]}..."


def _wav_seconds(wav: bytes) -> float:
    with wave.open(io.BytesIO(wav)) as reader:
        frames: int = reader.getnframes()
        rate: int = reader.getframerate()
    return frames / rate


def _wav(path: Path) -> Path:
    return path.with_name(f"{path.name}.wav")


def _atomic_write(path: Path, data: bytes) -> None:
    """Write to a temp file beside ``path``, then rename: readers see all of it or none."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temp, 0o644)  # Asterisk runs as another user
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
