"""The vocabulary of supervision: the modes and their keys, a session and its mode changes, and
the AMI actions that start, switch and end one (pure: nothing here sends anything).

A session calls the supervisor's own softphone (its PJSIP endpoint is their pseudonym) with the
caller id "Supervision"; answered, the call runs ChanSpy on the supervised operator's channel in
the dialplan context CONTEXT_SUPERVISE, whose extensions are the modes' keys. Switching the mode
redirects the supervisor's channel to another of them; the channel is named by the uniqueid the
originate gave it (``ChannelId``), which Asterisk accepts wherever a channel name is asked for."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from telephony import variables as v

RING_MS = 30_000  # how long the supervisor's phone rings before the originate gives up


class Mode(StrEnum):
    LISTEN = "listen"  # the supervisor hears both; nobody hears the supervisor
    WHISPER = "whisper"  # ... and the operator hears the supervisor, the caller does not
    BARGE = "barge"  # ... and both hear the supervisor


KEYS: dict[Mode, str] = {Mode.LISTEN: "4", Mode.WHISPER: "5", Mode.BARGE: "6"}
MODE_OF_KEY: dict[str, Mode] = {key: mode for mode, key in KEYS.items()}


class State(StrEnum):
    RINGING = "ringing"  # the supervisor's phone rings
    ACTIVE = "active"  # answered: the supervisor hears the call
    ENDED = "ended"


class Origin(StrEnum):
    API = "api"  # POST /api/supervision
    CODE = "code"  # a feature code dialled on the supervisor's softphone


class Ending(StrEnum):
    ENDED = "ended"  # through the API (DELETE)
    HUNG_UP = "hung_up"  # the supervisor hung up
    CALL_ENDED = "call_ended"  # the supervised call ended
    NOT_ANSWERED = "not_answered"  # the supervisor's phone did not answer
    RESTART = "restart"  # the service stopped while it lasted (found open at the next start)


@dataclass(frozen=True)
class ModeChange:
    mode: Mode
    at: datetime
    via: str  # api, keys, code
    by: str


@dataclass
class Session:
    id: str
    operator: str
    supervisor: str
    origin: Origin
    node: str
    call_id: str
    target: str  # the operator's channel, never stored
    started_at: datetime
    modes: list[ModeChange] = field(default_factory=list)
    state: State = State.RINGING
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    ended_how: Ending | None = None
    ended_by: str | None = None
    channel: str = ""  # the supervisor's channel: its name once known, else its uniqueid

    @property
    def mode(self) -> Mode:
        return self.modes[-1].mode

    @property
    def live(self) -> bool:
        return self.state is not State.ENDED


def channel_id(session_id: str) -> str:
    """The uniqueid the supervisor's channel gets from the originate."""
    return f"supervision-{session_id}"


def originate(session: Session) -> dict[str, str]:
    variables = {
        v.SPY_SESSION: session.id,
        v.SPY_TARGET: session.target,
        v.SPY_EXIT_CONTEXT: v.CONTEXT_SUPERVISE_KEYS,
    }
    return {
        "Action": "Originate",
        "Channel": f"PJSIP/{session.supervisor}",
        "Context": v.CONTEXT_SUPERVISE,
        "Exten": KEYS[session.mode],
        "Priority": "1",
        "CallerID": v.SUPERVISION_CALLER_ID,  # never the caller's number
        "ChannelId": channel_id(session.id),
        "Timeout": str(RING_MS),
        "Variable": ",".join(f"{name}={value}" for name, value in variables.items()),
        "Async": "true",  # a sync Originate breaks panoramisk's connection
    }


def redirect(session: Session, mode: Mode) -> dict[str, str]:
    return {
        "Action": "Redirect",
        "Channel": session.channel,
        "Context": v.CONTEXT_SUPERVISE,
        "Exten": KEYS[mode],
        "Priority": "1",
    }


def hang_up(session: Session) -> dict[str, str]:
    return {"Action": "Hangup", "Channel": session.channel, "Cause": "16"}
