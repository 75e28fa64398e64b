"""A second service instance in the rendered dialplan (issue 22): Asterisk walks a caller on the
second FastAGI server when the first one's walk ends without a route, and falls back to the
default queue when both fail; the IVR's route travels on the channel to every AMI session."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings
from dialplan.check import check, read
from dialplan.render import render, sandbox_target, write
from ivr.document import IvrDocument
from telephony import variables as v


def _rendered(settings: Settings, document: IvrDocument, out: Path) -> Path:
    write(render(settings, sandbox_target(settings), document), out)
    check(out, document.queue_names())
    return out


def _entry(etc: Path) -> list[str]:
    lines = (etc / "extensions.conf").read_text().splitlines()
    start = lines.index("[hotline-entry]")
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("["))
    return [line for line in lines[start:end] if line.strip()]


def test_one_instance_one_target(settings: Settings, document: IvrDocument, tmp_path: Path) -> None:
    entry = _entry(_rendered(settings, document, tmp_path / "etc"))
    assert sum("AGI(" in line for line in entry) == 1
    assert not any("?routed)" in line for line in entry)


def test_a_backup_instance_is_tried_when_the_walk_ends_without_a_route(
    settings: Settings, document: IvrDocument, tmp_path: Path
) -> None:
    settings.agi.backup_host, settings.agi.backup_port = "10.0.0.2", 4574
    etc = _rendered(settings, document, tmp_path / "etc")
    entry = _entry(etc)
    secret = settings.agi.secret_value()
    calls = [i for i, line in enumerate(entry) if "AGI(" in line]
    assert len(calls) == 2
    first, second = calls
    assert "${HOTLINE_AGI_URL}" in entry[first]
    assert (
        f"AGI(agi://10.0.0.2:4574/{v.AGI_SCRIPT},{secret},${{CHANNEL(linkedid)}},${{HOTLINE_NODE}})"
        in entry[second]
    )
    # Between them: the second only when the first set no result (refused, cut off, gone).
    assert entry[first + 1] == f' same => n,GotoIf($["${{{v.IVR_RESULT}}}" != ""]?routed)'
    # After both: AGISTATUS, then the IVR's own result decides, else the default queue.
    assert entry[second + 1] == ' same => n,GotoIf($["${AGISTATUS}" != "SUCCESS"]?fallback)'
    assert entry[second + 2].startswith(" same => n(routed),GotoIf(")
    assert any(f'"${{{v.IVR_RESULT}}}" != "{v.IVR_OK}"]?fallback)' in line for line in entry)
    assert settings.agi.base_urls() == [
        f"agi://{settings.agi.reachable_host()}:{settings.agi.port}",
        "agi://10.0.0.2:4574",
    ]


def test_the_route_travels_on_every_ami_session(
    settings: Settings, document: IvrDocument, tmp_path: Path
) -> None:
    general = dict(read(_rendered(settings, document, tmp_path / "etc") / "manager.conf")["general"])
    assert general["channelvars"] == v.ROUTE_FACTS


def test_operator_codes_and_the_survey_go_to_the_backup_when_the_first_cannot_be_reached(
    settings: Settings, document: IvrDocument, tmp_path: Path
) -> None:
    settings.agi.backup_host = "10.0.0.2"
    text = (_rendered(settings, document, tmp_path / "etc") / "extensions.conf").read_text()
    lines = text.splitlines()
    tried_again = ' same => n,GotoIf($["${AGISTATUS}" != "FAILURE"]?done)'
    for code in ("*41", "*42", "_*43X", "*40"):
        at = lines.index(f"exten => {code},1,Answer()")
        first, check, second, done = lines[at + 1 : at + 5]
        assert (
            f"AGI(agi://{settings.agi.reachable_host()}:{settings.agi.port}/{v.AGI_OPERATOR_SCRIPT}," in first
        )
        assert check == tried_again
        assert second.startswith(
            f" same => n,AGI(agi://10.0.0.2:{settings.agi.port}/{v.AGI_OPERATOR_SCRIPT},"
        )
        assert first.split(",", 2)[2] == second.split(",", 2)[2]  # the same secret and arguments
        assert done == " same => n(done),Hangup()"
    served = lines.index(f"[{v.CONTEXT_SERVED}]")
    assert lines[served + 3] == ' same => n,GotoIf($["${AGISTATUS}" != "FAILURE"]?bye)'
    assert f"AGI(agi://10.0.0.2:{settings.agi.port}/{v.AGI_SURVEY_SCRIPT}," in lines[served + 4]
