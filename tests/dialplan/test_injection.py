"""Values from the IVR document, the settings and the operators never change the structure of
Asterisk's configuration: refused by the document's patterns, and by the renderer when they get
past them (one test per injection vector)."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import SecretStr, ValidationError

from agents.directory import Operator, Role
from core.settings import Settings
from dialplan.check import ConfigCheckError, check_structure, structure
from dialplan.render import render, sandbox_target
from ivr.document import IvrDocument

INJECTIONS = {
    "newline": "welcome\nmember => Local/evil@hotline-in/n,0,evil\nringinuse = yes",
    "comment": "welcome;ringinuse = yes",
    "block comment": "welcome ;-- hidden",
    "section": "welcome\n[evil]\ntype = endpoint",
    "include": "welcome\n#include /etc/passwd",
    "exec": "welcome\n#exec /bin/true",
    "carriage return": "welcome\rringinuse = yes",
    "escape": "welcome\\",
}


def _with_periodic_prompt(document: IvrDocument, prompt: str) -> IvrDocument:
    """The document with the prompt set past validation, as a bug or an old version might."""
    queue = document.queues[0]
    said = queue.announcements.model_copy(update={"periodic_prompt": prompt})
    queues = [queue.model_copy(update={"announcements": said}), *document.queues[1:]]
    return document.model_copy(update={"queues": queues})


@pytest.mark.parametrize("vector", sorted(INJECTIONS))
def test_the_document_refuses_an_injected_periodic_prompt_naming_the_path(
    document: IvrDocument, vector: str
) -> None:
    data: dict[str, Any] = document.model_dump(mode="json", exclude_none=True)
    data["queues"][0]["announcements"] = {"periodic_prompt": INJECTIONS[vector]}
    with pytest.raises(ValidationError) as caught:
        IvrDocument.model_validate(data)
    assert [e["loc"] for e in caught.value.errors()] == [("queues", 0, "announcements", "periodic_prompt")]


@pytest.mark.parametrize("field", ["prompt", "no_input_prompt"])
def test_the_document_refuses_menu_and_survey_prompts_with_syntax(document: IvrDocument, field: str) -> None:
    data: dict[str, Any] = document.model_dump(mode="json", exclude_none=True)
    if field == "prompt":
        node = next(iter(data["menu"]["nodes"]))
        data["menu"]["nodes"][node]["prompt"] = "welcome\nEXEC System id"
        where: tuple[Any, ...] = ("menu", "nodes", node, "prompt")
    else:
        data["survey"] = {"prompt": "survey thanks"}
        where = ("survey", "prompt")
    with pytest.raises(ValidationError) as caught:
        IvrDocument.model_validate(data)
    assert where in [e["loc"] for e in caught.value.errors()]


def test_the_document_still_takes_its_own_and_asterisks_prompts(document: IvrDocument) -> None:
    for prompt in ("stay-on-line", "core:queue-thankyou", "core:digits/1"):
        assert _with_periodic_prompt(document, prompt).queues[0].announcements.periodic_prompt == prompt
        data: dict[str, Any] = document.model_dump(mode="json", exclude_none=True)
        data["queues"][0]["announcements"] = {"periodic_prompt": prompt}
        IvrDocument.model_validate(data)


@pytest.mark.parametrize("vector", sorted(INJECTIONS))
def test_the_renderer_refuses_an_injected_periodic_prompt(
    settings: Settings, document: IvrDocument, vector: str
) -> None:
    with pytest.raises(ConfigCheckError, match=r"queues\.conf"):
        render(settings, sandbox_target(settings), _with_periodic_prompt(document, INJECTIONS[vector]))


@pytest.mark.parametrize(
    "value",
    [
        "main${SHELL(id)}",
        "main$[1+1]",
        "main,c,,,1",
        "main|c",
        "main)",
        'main"',
        "main\nexten => s,1,Hangup()",
    ],
)
def test_the_renderer_refuses_dialplan_syntax_in_a_queue_name(
    settings: Settings, document: IvrDocument, value: str
) -> None:
    with pytest.raises(ConfigCheckError, match=r"extensions\.conf"):
        render(settings, sandbox_target(settings), document.model_copy(update={"fallback_queue": value}))


@pytest.mark.parametrize("value", ["main,c,,,1", "main${EVIL}"])
def test_the_renderer_refuses_application_arguments_in_the_escalation_queue(
    settings: Settings, document: IvrDocument, value: str
) -> None:
    with pytest.raises(ConfigCheckError, match=r"extensions\.conf"):
        render(settings, sandbox_target(settings), document.model_copy(update={"escalation_queue": value}))


def test_the_renderer_refuses_an_operator_id_that_adds_a_section(
    settings: Settings, document: IvrDocument
) -> None:
    evil = Operator(
        "op-x\n[op-x]\ntype = endpoint\ncontext = hotline-in", "X", Role.OPERATOR, {}, True, "0" * 32
    )
    with pytest.raises(ConfigCheckError, match=r"pjsip\.conf"):
        render(settings, sandbox_target(settings), document, [evil])


def test_the_renderer_refuses_settings_that_break_a_file(settings: Settings, document: IvrDocument) -> None:
    trunk = settings.model_copy(update={"referral_trunk": "127.0.0.1:5090\n[hotline-callers]\ncontext = x"})
    with pytest.raises(ConfigCheckError, match=r"pjsip\.conf"):
        render(trunk, sandbox_target(trunk), document)
    node = settings.asterisk[0].model_copy(update={"ami_secret": SecretStr("s3cret;read = all")})
    secret = settings.model_copy(update={"asterisk": [node, *settings.asterisk[1:]]})
    with pytest.raises(ConfigCheckError, match=r"manager\.conf"):
        render(secret, sandbox_target(secret), document)


def test_a_clean_document_renders_as_meant(settings: Settings, document: IvrDocument) -> None:
    files = render(settings, sandbox_target(settings), _with_periodic_prompt(document, "core:queue-thankyou"))
    assert "periodic-announce = queue-thankyou\n" in files["queues.conf"]


# -- the structure check on its own ----------------------------------------------------------------
def test_structure_reads_comments_sections_and_directives_as_asterisk_does() -> None:
    text = "[a](!)\nk = v ; note\nx => 1,2\n;-- a\nhidden = 1\n--; y = 2\n#include z.conf\nk2 = a\\;b\n"
    assert structure(text) == [
        ("section", "a", "!"),
        ("entry", "k", "v"),
        ("entry", "x", "1,2"),
        ("entry", "y", "2"),
        ("directive", "#include z.conf", ""),
        ("entry", "k2", "a\\;b"),
    ]


@pytest.mark.parametrize(
    "rendered",
    [
        "[q]\nk = v\nextra = 1\n",
        "[q]\nk = v;\n[r]\n",
        "[q]\nk = v\n#include x\n",
        "[q]\nk = w\n",
        "[q]\n",
    ],
)
def test_check_structure_refuses_any_file_that_differs_from_what_was_meant(rendered: str) -> None:
    meant = {"queues.conf": structure("[q]\nk = v\n")}
    check_structure({"queues.conf": "[q]\nk = v\n"}, meant)
    with pytest.raises(ConfigCheckError, match=r"queues\.conf"):
        check_structure({"queues.conf": rendered}, meant)


def test_a_refused_value_is_named_by_its_place_never_shown(settings: Settings, document: IvrDocument) -> None:
    node = settings.asterisk[0].model_copy(update={"ami_secret": SecretStr("s3cret-value;read = all")})
    secret = settings.model_copy(update={"asterisk": [node, *settings.asterisk[1:]]})
    with pytest.raises(ConfigCheckError) as caught:
        render(secret, sandbox_target(secret), document)
    assert (
        str(caught.value) == "manager.conf: refused a value in 'secret = <value>': ';' reads as syntax there"
    )
