"""What supervision adds to the rendered configuration (dialplan/render_supervision.py), read back
with pyst2's parser: ChanSpy's options per mode, the keys' way back, the seniors' feature codes,
every AGI with the secret first, ChanSpy's module."""

from __future__ import annotations

from pathlib import Path

from core.settings import Settings
from dialplan.check import read
from dialplan.render import render, sandbox_target, write
from ivr.document import IvrDocument
from telephony import variables as v


def test_the_supervisors_call_spies_in_the_mode_of_its_extension(
    settings: Settings, document: IvrDocument, tmp_path: Path
) -> None:
    write(render(settings, sandbox_target(settings), document), tmp_path)
    plan = read(tmp_path / "extensions.conf")
    agi = f"AGI(agi://{settings.agi.reachable_host()}:{settings.agi.port}/{v.AGI_SUPERVISION_SCRIPT}"
    secret = settings.agi.secret_value()
    spy = plan[v.CONTEXT_SUPERVISE]
    for key, options in (("4", "qESX"), ("5", "qESXw"), ("6", "qESXB")):
        at = spy.index(("exten", f"{key},1,{agi},{secret},spy,${{{v.SPY_SESSION}}},${{EXTEN}},${{CHANNEL}})"))
        assert spy[at + 1] == ("same", f"n,ChanSpy(${{{v.SPY_TARGET}}},{options})")
        assert spy[at + 2] == ("same", "n,Hangup()")
    assert ("exten", f"h,1,{agi},{secret},end,${{{v.SPY_SESSION}}})") in spy
    # listen never carries w or B: the supervisor's microphone reaches nobody
    assert not any("ChanSpy" in line and ("w)" in line or "B)" in line) for _, line in spy[:3])
    assert plan[v.CONTEXT_SUPERVISE_KEYS] == [("exten", f"_[456],1,Goto({v.CONTEXT_SUPERVISE},${{EXTEN}},1)")]
    codes = plan[v.CONTEXT_OPERATORS]
    at = codes.index(("exten", "_*4[456].,1,Answer()"))
    assert codes[at + 1 : at + 5] == [
        ("same", f"n,{agi},{secret},code,${{CHANNEL(endpoint)}},${{EXTEN:2:1}},${{EXTEN:3}})"),
        ("same", f'n,GotoIf($["${{{v.SPY_SESSION}}}" = ""]?refused)'),
        ("same", f"n,Goto({v.CONTEXT_SUPERVISE},${{EXTEN:2:1}},1)"),
        ("same", "n(refused),Hangup()"),
    ]
    loaded = {value for key, value in read(tmp_path / "modules.conf")["modules"] if key == "load"}
    assert "app_chanspy.so" in loaded
