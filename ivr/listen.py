"""What a prompt sounds like, for the editor's play button (issue 19): the recording uploaded
for it, else its text as espeak-ng says it: the same rendering publishing gives Asterisk
(:meth:`PromptStudio.synthesize`, cached by text, voice and speed: a second listen runs no tool).
Blocking (files, espeak-ng, sox): call it off the event loop."""

from __future__ import annotations

from pathlib import Path

from ivr.document import IvrDocument
from ivr.issues import Issue
from ivr.prompts import PromptStudio
from ivr.service import NotFound


def prompt_audio(studio: PromptStudio, doc: IvrDocument, prompt_id: str, language: str) -> bytes:
    """The WAV bytes of ``prompt_id`` in ``language`` as ``doc`` has it; NotFound when it has
    no such prompt, or not in that language; PromptError when the speech cannot be made."""
    by_language = doc.prompts.get(prompt_id)
    if by_language is None:
        where = f"prompt {prompt_id[:40]}"
        raise NotFound(f"prompt '{prompt_id[:40]}' does not exist", [Issue(where, "no such prompt")])
    source = by_language.get(language)
    if source is None:
        where, said = f"prompt {prompt_id} ({language[:8]})", ", ".join(by_language) or "none"
        problem = f"not said in '{language[:8]}'; its languages: {said}"
        raise NotFound(f"prompt '{prompt_id}' is {problem}", [Issue(where, problem)])
    if source.text is not None:
        return _wav(studio.synthesize(prompt_id, language, source.text).path).read_bytes()
    wav = _wav(studio.path_for(prompt_id, language, source.recording)) if source.recording else None
    if wav is None or not wav.is_file():
        where = f"prompt {prompt_id} ({language})"
        problem = "its recording was never uploaded here" if wav else "it has neither a text nor a recording"
        raise NotFound(f"prompt '{prompt_id}' ({language}): {problem}", [Issue(where, problem)])
    return wav.read_bytes()


def _wav(path: Path) -> Path:
    """The file of a prompt's path as Asterisk gets it (without the extension it adds)."""
    return path.with_name(f"{path.name}.wav")
