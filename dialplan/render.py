"""Render the project's Asterisk configuration (templates in ``asterisk-config/``) from the model.

The same templates serve the sandbox (a chroot on the developer's machine) and users' servers
(docker-compose): a :class:`Target` says where Asterisk keeps its files and what it listens on.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2

from agents.directory import SIP_REALM, Operator
from core.files import private_dir
from core.settings import Settings
from core.shipped import shipped
from dialplan import targets
from dialplan.check import check_structure
from dialplan.expected import expected, probe_context
from dialplan.render_desk import DESK_MODULES, desk_context
from dialplan.render_nodes import NODE_MODULES, lives_on, nodes_context
from dialplan.render_supervision import SUPERVISION_MODULES, supervision_context
from dialplan.render_twilio import TLS_KEY_FILE, TWILIO_MODULES, twilio_context, twilio_files
from dialplan.stasis import DECLINED_MESSAGE_TYPES
from dialplan.targets import Target, node_settings
from ivr.document import ANNOUNCE_PREFIX, CORE_PREFIX, IvrDocument, Queue
from telephony import variables as v
from telephony.scrub import SUBSCRIBED_EVENTS

# Where an Asterisk runs (dialplan/targets.py), still importable from here.
sandbox_target, server_target = targets.sandbox_target, targets.server_target
# An escalated caller nobody senior takes within this long goes to the fallback queue (first).
ESCALATION_WAIT_SECONDS = 120
# asterisk-config/ at the top of the repository, or inside this package when installed.
TEMPLATE_DIR = shipped(Path(__file__).resolve().parent, "asterisk-config")

# Everything the hotline needs, nothing that writes call details to disk (no cdr_*, cel_*).
MODULES: tuple[str, ...] = (
    "res_timing_timerfd.so",
    "res_sorcery_config.so",
    "res_sorcery_memory.so",
    "res_sorcery_astdb.so",
    "res_pjproject.so",
    "res_pjsip.so",
    "res_pjsip_session.so",
    "res_pjsip_pubsub.so",
    "chan_pjsip.so",
    "res_pjsip_endpoint_identifier_ip.so",
    "res_pjsip_endpoint_identifier_user.so",
    "res_pjsip_authenticator_digest.so",
    "res_pjsip_outbound_authenticator_digest.so",
    "res_pjsip_outbound_registration.so",
    "res_pjsip_registrar.so",
    "res_pjsip_sdp_rtp.so",
    "res_pjsip_caller_id.so",
    "res_pjsip_dtmf_info.so",
    "res_pjsip_rfc3326.so",
    "res_pjsip_nat.so",
    "res_rtp_asterisk.so",
    "codec_ulaw.so",
    "codec_alaw.so",
    "codec_gsm.so",
    "format_gsm.so",
    "format_wav.so",
    "format_wav_gsm.so",
    "format_pcm.so",
    "format_sln.so",
    "pbx_config.so",
    "res_speech.so",
    "res_agi.so",
    "res_musiconhold.so",
    "app_queue.so",
    "app_dial.so",
    "app_playback.so",
    "app_read.so",
    "app_stack.so",
    "app_verbose.so",
    "app_exec.so",
    "app_channelredirect.so",
    "func_callerid.so",
    "func_channel.so",
    "func_strings.so",
    "func_logic.so",
    "func_global.so",
    "func_db.so",  # the answered calls' notes (telephony/census.py)
    "bridge_simple.so",
    "bridge_native_rtp.so",
    "bridge_holding.so",
    *DESK_MODULES,  # dialplan/render_desk.py: a call with a third party
    *SUPERVISION_MODULES,  # dialplan/render_supervision.py: listen, whisper, barge
    *NODE_MODULES,  # dialplan/render_nodes.py: overflow between the line's nodes
    *TWILIO_MODULES,  # dialplan/render_twilio.py: callers handed over from a Twilio number
)

TEMPLATES: tuple[str, ...] = (
    "asterisk.conf",
    "modules.conf",
    "logger.conf",
    "cdr.conf",
    "cel.conf",
    "manager.conf",
    "pjsip.conf",
    "rtp.conf",
    "musiconhold.conf",
    "indications.conf",
    "queues.conf",
    "extensions.conf",
    "features.conf",
    "acl.conf",
    "udptl.conf",
    "pjproject.conf",
    "ccss.conf",
    "stasis.conf",
)


@dataclass(frozen=True)
class Member:
    interface: str
    name: str


@dataclass(frozen=True)
class QueueView:
    name: str
    strategy: str
    ring_seconds: int
    wrapup_seconds: int
    service_level_seconds: int
    members: tuple[Member, ...] = field(default_factory=tuple)
    when_unstaffed: str = "wait"
    announce_position: bool = False
    announce_holdtime: bool = False
    announce_frequency: int = 0
    periodic_announce: str | None = None
    periodic_frequency: int = 0


def simulated_members(queue: str, count: int) -> tuple[Member, ...]:
    return tuple(
        Member(f"Local/op-{queue}-{n}@{v.CONTEXT_SIMULATED_OPERATOR}/n", f"sim-{queue}-{n}")
        for n in range(1, count + 1)
    )


def announcement_file(prompt: str, prompts_dir: str) -> str:
    """What queues.conf names for a periodic announcement: one name for every language (Asterisk
    looks in ``<dir>/<language>/``); the IVR service puts each language's audio there."""
    if prompt.startswith(CORE_PREFIX):
        return prompt.removeprefix(CORE_PREFIX)
    return f"{prompts_dir.rstrip('/')}/{ANNOUNCE_PREFIX}{prompt}"


def _queue_view(queue: Queue, simulated: int, prompts_dir: str) -> QueueView:
    said = queue.announcements
    periodic = said.periodic_prompt
    return QueueView(
        name=queue.name,
        strategy=queue.strategy,
        ring_seconds=queue.ring_seconds,
        wrapup_seconds=queue.wrapup_seconds,
        service_level_seconds=queue.service_level_seconds,
        members=simulated_members(queue.name, simulated),
        when_unstaffed=queue.when_unstaffed,
        announce_position=said.position,
        announce_holdtime=said.hold_time,
        announce_frequency=said.every_seconds if said.position or said.hold_time else 0,
        periodic_announce=announcement_file(periodic, prompts_dir) if periodic else None,
        periodic_frequency=said.periodic_seconds,
    )


def _refs(*names: str) -> dict[str, str]:
    return {name: "${%s}" % getattr(v, name.upper()) for name in names}  # noqa: UP031


def _agi_secret(settings: Settings) -> str:
    secret = settings.agi.secret_value()
    if not secret:
        raise ValueError("no FastAGI secret to render (load_settings makes or requires one)")
    return secret


def context(
    settings: Settings,
    target: Target,
    doc: IvrDocument,
    operators: Sequence[Operator] = (),
    node_name: str | None = None,
) -> dict[str, Any]:
    node = node_settings(settings, node_name)
    agi = settings.agi
    return {
        "dirs": target.dirs,
        "modules": MODULES,
        "stasis_declined": sorted(DECLINED_MESSAGE_TYPES),
        "default_language": doc.default_language,
        "indications_country": target.indications_country,
        "ami": {
            "port": node.ami_port,
            "bind": target.ami_bind,
            "user": node.ami_user,
            "secret": node.secret(),
            "permit": target.ami_permit,
            "events": sorted(SUBSCRIBED_EVENTS),
        },
        "sip": {
            "bind": target.sip_bind,
            "port": target.sip_port,
            "caller_networks": target.caller_networks,
            "media_address": target.media_address,
            "external_address": target.external_address,
            "external_port": target.external_port,
            "local_nets": target.local_nets,
            "trunk": target.trunk,
        },
        "rtp": {"start": target.rtp_start, "end": target.rtp_end},
        "queues": [
            _queue_view(
                q,
                0 if q.name in target.unstaffed_queues else target.simulated_operators,
                str(settings.asterisk_prompts_dir),
            )
            for q in doc.queues
            if lives_on(q, node.name)
        ],
        "served": v.CONTEXT_SERVED,
        "answered": v.CONTEXT_ANSWERED,
        "answered_family": v.ASTDB_ANSWERED,
        "escalate": v.CONTEXT_ESCALATE,
        "escalate_feature": v.ESCALATE_FEATURE,
        "escalate_digits": v.ESCALATE_DIGITS,
        "escalation_queue": doc.escalation_queue,
        "escalation_priority": v.ESCALATION_PRIORITY,
        "escalation_wait": ESCALATION_WAIT_SECONDS,
        "survey_agi_url": f"agi://{agi.reachable_host()}:{agi.port}/{v.AGI_SURVEY_SCRIPT}",
        "node": node.name,
        "default_queue": doc.fallback_queue,
        "referral_trunk": settings.referral_trunk,
        "agi_urls": [f"{url}/{v.AGI_SCRIPT}" for url in agi.base_urls()],  # a second instance's too
        "operator_agi_url": f"agi://{agi.reachable_host()}:{agi.port}/{v.AGI_OPERATOR_SCRIPT}",
        "operator_agi_backups": [f"{url}/{v.AGI_OPERATOR_SCRIPT}" for url in agi.base_urls()[1:]],
        "survey_agi_backups": [f"{url}/{v.AGI_SURVEY_SCRIPT}" for url in agi.base_urls()[1:]],
        "agi_secret": _agi_secret(settings),
        "operators": [op for op in operators if op.active],
        "sip_realm": SIP_REALM,
        "simulated_hold_seconds": target.simulated_hold_seconds,
        "vars": {
            "ivr_result": v.IVR_RESULT,
            "queue": v.QUEUE,
            "fallback": v.FALLBACK,
            "priority": v.PRIORITY,
            "overflow_queue": v.OVERFLOW_QUEUE,
        },
        "ref": _refs(
            "ivr_result",
            "queue",
            "priority",
            "overflow_queue",
            "overflow_after",
            "overflow_waiting",
            "referral_number",
            "survey",
        ),
        "ivr_ok": v.IVR_OK,
        "ivr_referral": v.IVR_REFERRAL,
        **desk_context(),
        **supervision_context(f"agi://{agi.reachable_host()}:{agi.port}"),
        **nodes_context(settings, doc, node),
        **twilio_context(settings, agi.base_urls()),
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        autoescape=False,
    )


def render(
    settings: Settings,
    target: Target,
    doc: IvrDocument,
    operators: Sequence[Operator] = (),
    node: str | None = None,
) -> dict[str, str]:
    """File name -> rendered text, for every template. Every value from the document, the
    settings or the operators is checked for the file it lands in, and every file must read
    back as the structure the renderer meant (ConfigCheckError otherwise). ``node``: which of
    the line's Asterisk nodes (the first when None)."""
    env = _environment()
    values = context(settings, target, doc, operators, node)
    files = {name: env.get_template(name).render(values) for name in TEMPLATES}
    probe, data = probe_context(values)
    check_structure(files, expected({name: env.get_template(name).render(probe) for name in TEMPLATES}, data))
    return files | twilio_files(settings)


# Rendered files that hold a secret: the AMI user's (manager.conf), the operators' md5
# credentials (pjsip.conf; as good as a password for SIP digest), the FastAGI secret
# (extensions.conf).
SECRET_FILES: tuple[str, ...] = ("manager.conf", "pjsip.conf", "extensions.conf", TLS_KEY_FILE)


def write(files: dict[str, str], out_dir: Path, secret_files: Iterable[str] = SECRET_FILES) -> None:
    """Write atomically; files holding secrets are readable by their owner only (0600), in a
    folder only its owner enters (0700). Asterisk reads them as the same user (root in the
    sandbox and in the docker image; on a server, run the hotline as Asterisk's user)."""
    private_dir(out_dir, own=True)
    private = set(secret_files)
    for name, text in files.items():
        path = out_dir / name
        tmp = path.with_suffix(path.suffix + ".tmp")
        mode = 0o600 if name in private else 0o644
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        os.fchmod(fd, mode)  # a scratch file left by an earlier run keeps its mode otherwise
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
