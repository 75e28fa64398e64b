"""What the operator's desk adds to the rendered configuration (dialplan/render_desk.py), read
back with pyst2's parser: its contexts, the attended-transfer code, the conference modules."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings
from dialplan.check import read
from dialplan.render import render, sandbox_target, write
from ivr.document import IvrDocument
from telephony import variables as v


def test_the_desks_contexts_dial_partners_anonymously_and_operators_may_transfer(
    settings: Settings, document: IvrDocument, tmp_path: Path
) -> None:
    write(render(settings, sandbox_target(settings), document), tmp_path)
    plan = read(tmp_path / "extensions.conf")
    assert plan[v.CONTEXT_DESK_QUEUE] == [
        ("exten", f"_[a-z].,1,Set({v.QUEUE}=${{EXTEN}})"),
        ("same", f"n,Set({v.OVERFLOW_QUEUE}=)"),
        ("same", f"n,Goto({v.CONTEXT_QUEUE},s,1)"),
    ]
    referral = plan[v.CONTEXT_DESK_REFERRAL]
    assert ("exten", f"_+X.,1,Set({v.REFERRAL_NUMBER}=${{EXTEN}})") in referral
    assert referral.count(("same", f"n,Goto({v.CONTEXT_REFERRAL},s,1)")) == 2
    consult = plan[v.CONTEXT_DESK_CONSULT]
    anonymous = f"Set(CALLERID(all)={v.ANONYMOUS})"
    assert consult[0] == ("exten", f"{v.CONSULT_REFERRAL},1,{anonymous}")
    assert consult[1] == (
        "same",
        f"n,Dial(PJSIP/${{{v.DESK_DIAL}}}@hotline-referral,${{HOTLINE_REFERRAL_RING}})",
    )
    assert ("exten", f"{v.CONSULT_QUEUE},1,{anonymous}") in consult
    assert ("same", f"n,Queue(${{{v.DESK_DIAL}}})") in consult
    # the caller's bridge lets the operator (the called party) transfer: AMI Atxfer needs it
    assert ("same", "n,Set(BRIDGE_FEATURES=t)") in plan[v.CONTEXT_QUEUE]
    assert read(tmp_path / "features.conf")["featuremap"] == [("atxfer", v.ATXFER_DIGITS), ("blindxfer", "")]
    loaded = {value for key, value in read(tmp_path / "modules.conf")["modules"] if key == "load"}
    assert {"bridge_softmix.so", "app_bridgeaddchan.so"} <= loaded
    referral = read(tmp_path / "pjsip.conf")["hotline-referral"]  # its aor and endpoint, merged
    assert ("from_user", "anonymous") in referral and ("send_pai", "no") in referral
