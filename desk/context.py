"""The call in front of each operator (issue 16, item 1), followed from the queues' events:
offered (their phone rings), talking, ended (kept until its summary is saved, the summary
window passes or the next call is offered). What the desk shows of it comes from the call's
record (open in the assembler, or finished) and the live IVR document (topic names, guidance).
No I/O: it runs on the loop with every AMI event."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from core.types import CallRef
from desk.schemas import (
    CallContext,
    CallView,
    FormField,
    GuidanceView,
    Named,
    Phase,
    ReferralView,
    SummaryFormView,
)
from ivr.document import IvrDocument
from metrics.records.record import CallRecord
from telephony.events import (
    AgentCalled,
    AgentComplete,
    AgentConnect,
    AgentRingNoAnswer,
    AmiEvent,
    Hangup,
    QueueCallerAbandon,
)

DEFAULT_KEEP = timedelta(hours=2)  # an ended call stays on the desk this long without a summary form


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class _Seat:
    call: CallRef
    phase: Phase
    offered_at: datetime
    answered_at: datetime | None = None
    ended_at: datetime | None = None
    record: CallRecord | None = None  # the finished record, once the assembler handed it out


class CallDesk:
    """``open_record(call)``: a copy of an open call's record (the assembler's);
    ``document()``: the live IVR document. Saved summaries are told by :meth:`on_summary`."""

    def __init__(
        self,
        open_record: Callable[[CallRef], CallRecord | None],
        document: Callable[[], IvrDocument],
        clock: Callable[[], datetime] = _now,
    ) -> None:
        self._open_record = open_record
        self._document = document
        self._clock = clock
        self._seats: dict[str, _Seat] = {}  # operator -> the call in front of them
        self._saved: set[str] = set()  # record ids of calls on a desk whose summary is saved

    def on_event(self, event: AmiEvent) -> None:
        match event:
            case AgentCalled():
                self._seats[event.member] = _Seat(CallRef(event.node, event.call_id), "offered", event.at)
            case AgentConnect():
                seat = self._seats.get(event.member)
                call = CallRef(event.node, event.call_id)
                if seat is None or seat.call != call:
                    seat = self._seats[event.member] = _Seat(call, "offered", event.at)
                seat.phase, seat.answered_at = "talking", event.at
                self._drop_offers(call)  # a ringall queue rang others too
            case AgentComplete():
                seat = self._seats.get(event.member)
                if seat is not None and seat.call == CallRef(event.node, event.call_id):
                    seat.phase, seat.ended_at = "ended", event.at
            case AgentRingNoAnswer():
                seat = self._seats.get(event.member)
                if seat is not None and seat.phase == "offered" and seat.call.call_id == event.call_id:
                    del self._seats[event.member]
            case QueueCallerAbandon() | Hangup():
                self._drop_offers(CallRef(event.node, event.call_id))

    def on_record(self, record: CallRecord) -> None:
        """A finished record: the desks that show its call keep it (the assembler forgets it)."""
        call = CallRef(record.node, record.call_id)
        for seat in self._seats.values():
            if seat.call == call:
                seat.record = record
                if seat.phase != "offered":
                    seat.phase, seat.ended_at = "ended", seat.ended_at or record.ended_at

    def on_summary(self, record_id: str) -> None:
        """A call's summary was saved (maybe while the call goes on): once ended, it leaves."""
        shown = {self._record_id(seat) for seat in self._seats.values()}
        if record_id in shown:
            self._saved = (self._saved | {record_id}) & shown  # only calls still on a desk

    def _record_id(self, seat: _Seat) -> str | None:
        record = seat.record or self._open_record(seat.call)
        return None if record is None else record.id

    def _is_saved(self, record_id: str) -> bool:
        return record_id in self._saved

    def _drop_offers(self, call: CallRef) -> None:
        for operator in [o for o, s in self._seats.items() if s.call == call and s.phase == "offered"]:
            del self._seats[operator]

    def context(self, operator: str, language: str | None = None) -> CallContext:
        now = self._clock()
        seat = self._seats.get(operator)
        record = None if seat is None else seat.record or self._open_record(seat.call)
        if seat is not None and seat.phase == "ended" and self._done(seat, record, now):
            del self._seats[operator]
            self._saved.discard(record.id if record else "")
            seat = None
        if seat is None or record is None:
            return CallContext(operator=operator, state="none", server_time=now, call=None)
        view = self._view(seat, record, language, now)
        return CallContext(operator=operator, state=seat.phase, server_time=now, call=view)

    def _done(self, seat: _Seat, record: CallRecord | None, now: datetime) -> bool:
        if record is None or self._is_saved(record.id):
            return True
        form = self._document().summary
        keep = timedelta(minutes=form.window_minutes) if form is not None else DEFAULT_KEEP
        return seat.ended_at is not None and now - seat.ended_at > keep

    def _view(self, seat: _Seat, r: CallRecord, language: str | None, now: datetime) -> CallView:
        doc = self._document()
        topic = doc.topic(r.topic) if r.topic else None
        lang = _language(doc, language, r.language)
        talk_end = seat.ended_at or now
        queued = r.queue_entered_at
        return CallView(
            record_id=r.id,
            offered_at=seat.offered_at,
            answered_at=seat.answered_at,
            ended_at=seat.ended_at,
            waited_seconds=_seconds(queued, seat.answered_at or now),
            talking_seconds=_seconds(seat.answered_at, talk_end),
            queue=r.queue,
            topic=r.topic,
            topic_name=None if topic is None else _localized(topic.names, lang, doc.default_language),
            language=r.language,
            path=r.path,
            priority=r.priority,
            after_hours=r.after_hours,
            overflowed=r.overflowed,
            escalated=r.escalated,
            fallback=r.fallback,
            repeat_count=r.repeat_count,
            summary_saved=self._is_saved(r.id),
            guidance=None if topic is None else _guidance(doc, topic.id, lang),
            form=_form(doc, r.topic, lang),
        )


def _seconds(start: datetime | None, end: datetime) -> float | None:
    return None if start is None else round(max(0.0, (end - start).total_seconds()), 1)


def _language(doc: IvrDocument, asked: str | None, call: str | None) -> str:
    for lang in (asked, call):
        if lang and lang in doc.languages:
            return lang
    return doc.default_language


def _localized(names: dict[str, str], lang: str, default: str) -> str:
    return names.get(lang) or names.get(default) or next(iter(names.values()), "")


def _guidance(doc: IvrDocument, topic_id: str, lang: str) -> GuidanceView | None:
    topic = doc.topic(topic_id)
    if topic is None or topic.guidance is None:
        return None
    g = topic.guidance
    shown = lang if lang in g.texts else doc.default_language if doc.default_language in g.texts else None
    if shown is None:
        shown = next(iter(g.texts), lang)
    text = g.texts.get(shown)
    referrals = [doc.referral(ref) for ref in g.referrals]
    return GuidanceView(
        language=shown,
        summary=text.summary if text else "",
        steps=list(text.steps) if text else [],
        risk_questions=list(text.risk_questions) if text else [],
        escalate_when=list(text.escalate_when) if text else [],
        escalate_to=g.escalate_to or doc.escalation_queue,
        referrals=[
            ReferralView(id=r.id, organisation=r.organisation, number=r.number) for r in referrals if r
        ],
        issues=[Named(id=k, name=_localized(v, shown, doc.default_language)) for k, v in g.issues.items()],
        example=g.example,
    )


def _form(doc: IvrDocument, topic_id: str | None, lang: str) -> SummaryFormView | None:
    form = doc.summary
    if form is None:
        return None
    topic = doc.topic(topic_id) if topic_id else None
    issues = topic.guidance.issues if topic is not None and topic.guidance is not None else {}
    fields = []
    for f in form.fields:
        if f.kind == "text" and not form.free_text:
            continue
        if f.kind == "issues":
            options = [Named(id=k, name=_localized(v, lang, doc.default_language)) for k, v in issues.items()]
        elif f.kind == "referral":
            options = [Named(id=r.id, name=r.organisation) for r in doc.referrals]
        else:
            options = [
                Named(id=k, name=_localized(v, lang, doc.default_language)) for k, v in f.values.items()
            ]
        name = _localized(f.names, lang, doc.default_language)
        fields.append(FormField(id=f.id, name=name, kind=f.kind, required=f.required, options=options))
    return SummaryFormView(fields=fields, text_max=form.text_max, window_minutes=form.window_minutes)
