"""Rendered Asterisk configuration, read back with pyst2's parser."""

from __future__ import annotations

from pathlib import Path

import pytest

from agents.directory import Operator
from core.settings import Settings
from dialplan.check import ConfigCheckError, check, read
from dialplan.render import render, sandbox_target, server_target, write
from dialplan.stasis import DECLINED_MESSAGE_TYPES
from ivr.document import IvrDocument
from telephony import variables as v
from telephony.scrub import SUBSCRIBED_EVENTS


@pytest.fixture
def rendered(settings: Settings, document: IvrDocument, tmp_path: Path) -> Path:
    out = tmp_path / "etc"
    write(render(settings, sandbox_target(settings), document), out)
    return out


def test_rendered_files_pass_the_privacy_check(rendered: Path, document: IvrDocument) -> None:
    check(rendered, document.queue_names())


def test_every_queue_is_rendered_hotline_fit(rendered: Path, document: IvrDocument) -> None:
    queues = read(rendered / "queues.conf")
    for q in document.queues:
        values = dict(queues[q.name])
        assert values["ringinuse"] == "no"
        assert values["joinempty"] == "yes" and values["leavewhenempty"] == "no"
        assert values["servicelevel"] == str(q.service_level_seconds)
    members = [val for key, val in queues["crisis"] if key == "member"]
    assert members == [
        "Local/op-crisis-1@hotline-simop/n,0,sim-crisis-1",
        "Local/op-crisis-2@hotline-simop/n,0,sim-crisis-2",
    ]


def test_ami_user_sees_only_subscribed_events(rendered: Path, settings: Settings) -> None:
    user = read(rendered / "manager.conf")[settings.asterisk[0].ami_user]
    filters = {key for key, _ in user if key.startswith("eventfilter")}
    assert filters == {f"eventfilter(action(include),name({e}))" for e in SUBSCRIBED_EVENTS}
    assert dict(user)["secret"] == settings.asterisk[0].secret()
    # escalation from the API is an AMI BlindTransfer, which needs the 'call' write class
    assert set(dict(user)["write"].split(",")) == {"system", "agent", "originate", "call"}
    assert (rendered / "manager.conf").stat().st_mode & 0o077 == 0


def test_unconsumed_stasis_messages_are_declined(rendered: Path) -> None:
    declined = [value for key, value in read(rendered / "stasis.conf")["declined_message_types"]]
    assert sorted(declined) == sorted(DECLINED_MESSAGE_TYPES)
    assert "agi_exec_start_type" in declined and "ast_rtp_rtcp_sent_type" in declined
    produced = {event for events in DECLINED_MESSAGE_TYPES.values() for event in events}
    assert not produced & SUBSCRIBED_EVENTS  # nothing the hotline reads is declined


def test_dialplan_calls_the_ivr_then_falls_back_to_the_default_queue(
    rendered: Path, settings: Settings
) -> None:
    text = (rendered / "extensions.conf").read_text()
    secret = settings.agi.secret_value()
    assert f"AGI(${{HOTLINE_AGI_URL}},{secret},${{CHANNEL(linkedid)}},${{HOTLINE_NODE}})" in text
    assert 'GotoIf($["${AGISTATUS}" != "SUCCESS"]?fallback)' in text
    assert f'GotoIf($["${{{v.IVR_RESULT}}}" != "{v.IVR_OK}"]?fallback)' in text
    assert "HOTLINE_DEFAULT_QUEUE = main" in text
    assert "HOTLINE_AGI_URL = agi://127.0.0.1:4573/ivr" in text
    assert "Set(CALLERID(all)=anonymous <anonymous>)" in text


def test_server_target_listens_beyond_loopback_only_for_permitted_networks(
    settings: Settings, document: IvrDocument, tmp_path: Path
) -> None:
    write(render(settings, server_target(settings, ("10.1.0.0/16",)), document), tmp_path)
    user = dict(read(tmp_path / "manager.conf")[settings.asterisk[0].ami_user])
    assert user["permit"] == "10.1.0.0/16" and user["deny"] == "0.0.0.0/0.0.0.0"
    assert dict(read(tmp_path / "asterisk.conf")["directories"])["astetcdir"] == "/etc/asterisk"


@pytest.mark.parametrize(
    ("file", "find", "replace", "message"),
    [
        (
            "cdr.conf",
            "enable = no",
            "enable = yes",
            "cdr.conf: [general] enable must be one of ['no'], is 'yes'",
        ),
        (
            "cel.conf",
            "enable = no",
            "enable = yes",
            "cel.conf: [general] enable must be one of ['no'], is 'yes'",
        ),
        (
            "logger.conf",
            "queue_log = no",
            "queue_log = yes",
            "logger.conf: [general] queue_log must be one of ['no']",
        ),
        (
            "logger.conf",
            "warning,error",
            "verbose,warning",
            "logger.conf: messages.log logs 'verbose,warning'",
        ),
        (
            "modules.conf",
            "load = pbx_config.so",
            "load = cdr_csv.so",
            "modules.conf: loads ['cdr_csv.so']",
        ),
        ("queues.conf", "[crisis]", "[crisis2]", "queues.conf: no section for queues ['crisis']"),
    ],
)
def test_check_refuses_unsafe_files(
    rendered: Path, document: IvrDocument, file: str, find: str, replace: str, message: str
) -> None:
    path = rendered / file
    path.write_text(path.read_text().replace(find, replace))
    with pytest.raises(ConfigCheckError) as info:
        check(rendered, document.queue_names())
    assert message in str(info.value)


def test_queue_announcements_and_unstaffed_policy_are_rendered(
    settings: Settings, document: IvrDocument, tmp_path: Path
) -> None:
    data = document.model_dump(mode="json", exclude_none=True)
    crisis = next(q for q in data["queues"] if q["name"] == "crisis")
    crisis["announcements"] = {"position": True, "every_seconds": 45, "periodic_prompt": "welcome"}
    crisis["when_unstaffed"] = "fallback"
    doc = IvrDocument.model_validate(data)
    write(render(settings, sandbox_target(settings), doc), tmp_path)
    values = dict(read(tmp_path / "queues.conf")["crisis"])
    assert (values["announce-position"], values["announce-holdtime"], values["announce-frequency"]) == (
        "yes",
        "no",
        "45",
    )
    assert values["periodic-announce"] == f"{settings.asterisk_prompts_dir}/queue-announce-welcome"
    assert values["joinempty"] == values["leavewhenempty"] == "paused,penalty,invalid,unavailable,unknown"
    loss = dict(read(tmp_path / "queues.conf")["loss"])
    assert (loss["joinempty"], loss["announce-frequency"]) == ("yes", "0")
    assert "periodic-announce" not in loss


def test_escalation_is_rendered_only_with_an_escalation_queue(
    settings: Settings, document: IvrDocument, tmp_path: Path
) -> None:
    doc = document.model_copy(update={"escalation_queue": "main"})
    files = render(settings, sandbox_target(settings), doc)
    assert (
        f"{v.ESCALATE_FEATURE} => {v.ESCALATE_DIGITS},self,Gosub({v.CONTEXT_ESCALATE}-op,s,1)"
        in files["features.conf"]
    )
    assert f"Set(QUEUE_PRIO={v.ESCALATION_PRIORITY})" in files["extensions.conf"]
    plain = render(settings, sandbox_target(settings), document.model_copy(update={"escalation_queue": None}))
    assert v.CONTEXT_ESCALATE not in plain["extensions.conf"] + plain["features.conf"]


def test_files_with_secrets_are_0600_in_a_0700_folder(
    settings: Settings, document: IvrDocument, tmp_path: Path
) -> None:
    out = tmp_path / "etc"
    out.mkdir(mode=0o755)
    out.chmod(0o755)
    (out / "pjsip.conf.tmp").write_text("left by a crash", encoding="utf-8")
    (out / "pjsip.conf.tmp").chmod(0o644)
    operator = Operator("op-anna", "Anna", "operator", {"crisis": 1}, True, "softphone-md5")
    write(render(settings, sandbox_target(settings), document, [operator]), out)
    modes = {p.name: p.stat().st_mode & 0o777 for p in out.iterdir()}
    assert "softphone-md5" in (out / "pjsip.conf").read_text(encoding="utf-8")
    assert out.stat().st_mode & 0o777 == 0o700
    assert modes["pjsip.conf"] == modes["manager.conf"] == 0o600
    assert modes["queues.conf"] == 0o644  # no secret: Asterisk's user may read it


def test_every_agi_call_passes_the_secret_first_in_a_file_only_its_owner_reads(
    rendered: Path, settings: Settings
) -> None:
    secret = settings.agi.secret_value()
    assert secret
    lines = [line for line in (rendered / "extensions.conf").read_text().splitlines() if "AGI(" in line]
    calls = [line for line in lines if not line.startswith(";")]
    # the IVR, the survey, four operator feature codes, the supervision code, spying in each of
    # three modes and the supervisor's hang-up (dialplan/render_supervision.py)
    assert len(calls) == 11
    assert all(line.split("AGI(", 1)[1].split(",")[1] == secret for line in calls)
    assert f"= {secret}" not in (rendered / "extensions.conf").read_text()  # never a variable
    assert (rendered / "extensions.conf").stat().st_mode & 0o777 == 0o600
