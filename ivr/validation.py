"""Rules across the whole IVR document: a broken menu cannot be published.

Every issue names its place as the path a caller would take from the entry node
(``language > root > violence, option 2``) or the document section, and says what is wrong.
"""

from __future__ import annotations

from collections import Counter, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from ivr.desk_validation import check_desk
from ivr.document import (
    CORE_PREFIX,
    TERMINAL,
    Action,
    BackAction,
    IvrDocument,
    LanguageAction,
    MenuNode,
    OperatorAction,
    ReferralAction,
    RepeatAction,
    SubmenuAction,
    Topic,
    TopicAction,
)
from ivr.issues import Issue
from ivr.node_validation import check_queue_nodes
from ivr.silence import Durations, silence_issues


@dataclass
class _Ids:
    """The document's names as sets, looked up in constant time (validation stays linear in the
    document's size: a 10 MB draft must not take minutes)."""

    doc: IvrDocument
    queues: set[str] = field(init=False)
    topics: set[str] = field(init=False)
    referrals: set[str] = field(init=False)
    schedules: set[str] = field(init=False)

    def __post_init__(self) -> None:
        self.queues = set(self.doc.queue_names())
        self.topics = {t.id for t in self.doc.topics}
        self.referrals = {r.id for r in self.doc.referrals}
        self.schedules = {s.id for s in self.doc.schedules}


def validate(doc: IvrDocument, durations: Durations | None = None) -> list[Issue]:
    """All problems of the document, in a stable order; empty when it may be published.
    ``durations``: the prompts' audio lengths (else estimated from their words). Linear in the
    document's size (bench/ivr_validation.py)."""
    paths = _paths(doc)
    ids = _Ids(doc)
    checks = (
        _check_languages(doc),
        _check_queues(doc, ids),
        check_queue_nodes(doc),
        _check_nodes(doc, ids, paths),
        _check_reachable(doc, paths),
        _check_exits(doc, paths),
        _check_topics(doc, ids),
        _check_referrals(doc, ids),
        _check_prompts(doc, paths),
        check_desk(doc, ids.queues, ids.referrals),
    )
    issues = [issue for check in checks for issue in check]
    # The silent caller's walk needs a sound menu; then its length against the limit.
    return issues or silence_issues(doc, durations)


# -- node paths ----------------------------------------------------------------------------------
def _next_nodes(node: MenuNode) -> Iterator[tuple[str, Action]]:
    for label, action in _labelled_actions(node):
        if isinstance(action, (SubmenuAction, LanguageAction)):
            yield label, action


def _target(action: Action) -> str | None:
    if isinstance(action, SubmenuAction):
        return action.node
    if isinstance(action, LanguageAction):
        return action.next
    return None


def _labelled_actions(node: MenuNode) -> Iterator[tuple[str, Action]]:
    for digit, action in node.options.items():
        yield f"option {digit}", action
    yield "no-input", node.no_input
    yield "invalid input", node.invalid


def _paths(doc: IvrDocument) -> dict[str, str]:
    """Node id -> the shortest caller path from the entry, e.g. 'language > root'."""
    entry = doc.menu.entry
    if entry not in doc.menu.nodes:
        return {}
    paths = {entry: entry}
    todo = deque([entry])
    while todo:
        current = todo.popleft()
        for _, action in _next_nodes(doc.menu.nodes[current]):
            target = _target(action)
            if target in doc.menu.nodes and target not in paths:
                paths[target] = f"{paths[current]} > {target}"
                todo.append(target)
    return paths


def _where(paths: dict[str, str], node_id: str, label: str | None = None) -> str:
    base = paths.get(node_id, f"node {node_id}")
    return f"{base}, {label}" if label else base


# -- checks --------------------------------------------------------------------------------------
def _check_languages(doc: IvrDocument) -> Iterable[Issue]:
    if doc.default_language not in doc.languages:
        yield Issue(
            "default_language",
            f"'{doc.default_language}' is not one of the languages {doc.languages}",
        )
    if len(set(doc.languages)) != len(doc.languages):
        yield Issue("languages", "a language is listed twice")


def _check_queues(doc: IvrDocument, ids: _Ids) -> Iterable[Issue]:
    names = ids.queues
    for name in sorted(n for n, times in Counter(doc.queue_names()).items() if times > 1):
        yield Issue(f"queue {name}", "is defined twice")
    if "general" in names:
        yield Issue("queue general", "the name 'general' is reserved by Asterisk's queues.conf")
    if doc.fallback_queue not in names:
        yield Issue("fallback_queue", f"queue '{doc.fallback_queue}' does not exist")
    fallback = doc.queue(doc.fallback_queue)
    if fallback is not None and fallback.when_unstaffed != "wait":
        yield Issue(
            f"queue {fallback.name}",
            "is the fallback queue: when_unstaffed must be 'wait' (its callers have nowhere else to go)",
        )
    if doc.escalation_queue is not None and doc.escalation_queue not in names:
        yield Issue("escalation_queue", f"queue '{doc.escalation_queue}' does not exist")


def _check_nodes(doc: IvrDocument, ids: _Ids, paths: dict[str, str]) -> Iterable[Issue]:
    if doc.menu.entry not in doc.menu.nodes:
        yield Issue("menu.entry", f"node '{doc.menu.entry}' does not exist")
        return
    for node_id, node in doc.menu.nodes.items():
        for label, action in _labelled_actions(node):
            problem = _action_problem(doc, ids, node_id, action)
            if problem:
                yield Issue(_where(paths, node_id, label), problem)


def _action_problem(doc: IvrDocument, ids: _Ids, node_id: str, action: Action) -> str | None:
    if isinstance(action, SubmenuAction | LanguageAction):
        target = _target(action)
        if target not in doc.menu.nodes:
            return f"node '{target}' does not exist"
        if isinstance(action, LanguageAction) and action.language not in doc.languages:
            return f"language '{action.language}' is not one of the languages {doc.languages}"
    elif isinstance(action, TopicAction) and action.topic not in ids.topics:
        return f"topic '{action.topic}' does not exist"
    elif isinstance(action, ReferralAction) and action.referral not in ids.referrals:
        return f"referral '{action.referral}' does not exist"
    elif isinstance(action, OperatorAction) and action.queue and action.queue not in ids.queues:
        return f"queue '{action.queue}' does not exist"
    elif isinstance(action, BackAction) and node_id == doc.menu.entry:
        return "'back' on the entry node has nowhere to go"
    return None


def _check_reachable(doc: IvrDocument, paths: dict[str, str]) -> Iterable[Issue]:
    if not paths:
        return
    for node_id in doc.menu.nodes:
        if node_id not in paths:
            yield Issue(f"node {node_id}", f"is not reachable from the entry node '{doc.menu.entry}'")


def _check_exits(doc: IvrDocument, paths: dict[str, str]) -> Iterable[Issue]:
    """From every node a caller must be able to end at a queue, a referral or a human, and
    silence or wrong keys must end there too (never an endless loop)."""
    nodes = doc.menu.nodes
    exits = _nodes_with_exit(doc)
    silence = _Silence(doc)
    for node_id in paths:
        if node_id not in exits:
            yield Issue(
                _where(paths, node_id),
                "no path from here ends at a queue, a referral or an operator",
            )
        node = nodes[node_id]
        for label, action in (("no-input", node.no_input), ("invalid input", node.invalid)):
            if isinstance(action, RepeatAction):
                yield Issue(_where(paths, node_id, label), "'repeat' would loop forever; end at an operator")
            elif isinstance(action, BackAction | SubmenuAction) and not silence.falls_through(
                node_id, action
            ):
                yield Issue(
                    _where(paths, node_id, label),
                    "leads into a cycle without exit for a silent caller",
                )


def _nodes_with_exit(doc: IvrDocument) -> set[str]:
    """The nodes from which some key sequence ends at a terminal action: a walk backwards from
    the nodes with one, each edge once."""
    nodes = doc.menu.nodes
    callers: dict[str, list[str]] = {}
    for node_id, node in nodes.items():
        for _, action in _next_nodes(node):
            target = _target(action)
            if target is not None:
                callers.setdefault(target, []).append(node_id)
    good = {
        n for n, node in nodes.items() if any(isinstance(a, TERMINAL) for _, a in _labelled_actions(node))
    }
    todo = list(good)
    while todo:
        for caller in callers.get(todo.pop(), ()):
            if caller not in good:
                good.add(caller)
                todo.append(caller)
    return good


class _Silence:
    """Where silence leads, node to node: a function (each node has one next node, or ends), so
    the chains form a forest whose roots are the nodes where silence ends the walk (a terminal
    action, or a 'repeat' reported at its own node). Built once, in linear time; each question
    is then answered in constant time."""

    def __init__(self, doc: IvrDocument) -> None:
        self._doc = doc
        self._parents = _parents(doc)
        self._tin: dict[str, int] = {}  # entry and exit times of a walk over the forest
        self._tout: dict[str, int] = {}
        self._number()

    def _next(self, node_id: str) -> str | None:
        return _silent_next(self._doc, node_id, self._parents)

    def _is_end(self, node_id: str) -> bool:
        return isinstance(self._doc.menu.nodes[node_id].no_input, (*TERMINAL, RepeatAction))

    def _number(self) -> None:
        nodes = self._doc.menu.nodes
        children: dict[str, list[str]] = {}
        for node_id in nodes:
            following = None if self._is_end(node_id) else self._next(node_id)
            if following is not None and following in nodes:
                children.setdefault(following, []).append(node_id)
        clock = 0
        for root in (n for n in nodes if self._is_end(n)):
            stack: list[tuple[str, bool]] = [(root, False)]
            while stack:
                node_id, done = stack.pop()
                clock += 1
                if done:
                    self._tout[node_id] = clock
                    continue
                self._tin[node_id] = clock
                stack.append((node_id, True))
                stack.extend((child, False) for child in children.get(node_id, ()))

    def _on_chain(self, ancestor: str, node_id: str) -> bool:
        """Whether silence from ``node_id`` passes ``ancestor`` (itself included) on its way."""
        return (
            ancestor in self._tin
            and self._tin[ancestor] <= self._tin[node_id]
            and self._tout[node_id] <= self._tout[ancestor]
        )

    def falls_through(self, start: str, action: Action) -> bool:
        """Silence after ``action`` at ``start`` reaches an end without coming back to ``start``."""
        current = self._parents.get(start) if isinstance(action, BackAction) else _target(action)
        if current is None or current not in self._tin:  # no node, or silence there never ends
            return False
        return not self._on_chain(start, current)


def _silent_next(doc: IvrDocument, node_id: str, parents: dict[str, str]) -> str | None:
    action = doc.menu.nodes[node_id].no_input
    if isinstance(action, BackAction):
        return parents.get(node_id)
    return _target(action)


def _parents(doc: IvrDocument) -> dict[str, str]:
    parents: dict[str, str] = {}
    for node_id, node in doc.menu.nodes.items():
        for _, action in _next_nodes(node):
            target = _target(action)
            if target and target not in parents and target != node_id:
                parents[target] = node_id
    return parents


def _check_topics(doc: IvrDocument, ids: _Ids) -> Iterable[Issue]:
    queues = ids.queues
    times = Counter(t.id for t in doc.topics)
    for topic in doc.topics:
        where = f"topic {topic.id}"
        if times[topic.id] > 1:
            yield Issue(where, "is defined twice")
        if topic.queue not in queues:
            yield Issue(where, f"queue '{topic.queue}' does not exist")
        if topic.overflow and topic.overflow.queue not in queues:
            yield Issue(f"{where}, overflow", f"queue '{topic.overflow.queue}' does not exist")
        if topic.overflow and topic.overflow.queue == topic.queue:
            yield Issue(f"{where}, overflow", "must name another queue than the topic's own")
        if (
            topic.overflow
            and topic.overflow.after_seconds is None
            and topic.overflow.when_waiting_over is None
        ):
            yield Issue(f"{where}, overflow", "needs after_seconds, when_waiting_over or both")
        missing = [lang for lang in doc.languages if lang not in topic.names]
        if missing:
            yield Issue(where, f"has no name in {', '.join(missing)}")
        yield from _check_schedule_ref(ids, where, topic.schedule)
        yield from _check_after_hours(doc, ids, topic)
        if topic.survey and doc.survey is None:
            yield Issue(f"{where}, survey", "the document has no survey section (its prompt)")


def _check_after_hours(doc: IvrDocument, ids: _Ids, topic: Topic) -> Iterable[Issue]:
    where = f"topic {topic.id}, after hours"
    after = topic.after_hours
    if topic.schedule and after is None:
        yield Issue(where, "a topic with a schedule needs a referral or a 24/7 queue for after hours")
        return
    if after is None:
        return
    if after.referral is None and after.queue is None:
        yield Issue(where, "needs a referral or a 24/7 queue")
    if after.referral and after.referral not in ids.referrals:
        yield Issue(where, f"referral '{after.referral}' does not exist")
    if after.queue and after.queue not in ids.queues:
        yield Issue(where, f"queue '{after.queue}' does not exist")
    if after.prompt and not after.prompt.startswith(CORE_PREFIX) and after.prompt not in doc.prompts:
        yield Issue(where, f"prompt '{after.prompt}' does not exist")


def _check_schedule_ref(ids: _Ids, where: str, schedule_id: str | None) -> Iterable[Issue]:
    if schedule_id and schedule_id not in ids.schedules:
        yield Issue(where, f"schedule '{schedule_id}' does not exist")


def _check_referrals(doc: IvrDocument, ids: _Ids) -> Iterable[Issue]:
    for referral in doc.referrals:
        where = f"referral {referral.id}"
        yield from _check_schedule_ref(ids, where, referral.schedule)
        for topic_id in referral.topics:
            if topic_id not in ids.topics:
                yield Issue(where, f"topic '{topic_id}' does not exist")


def _check_prompts(doc: IvrDocument, paths: dict[str, str]) -> Iterable[Issue]:
    used: dict[str, str] = {}
    for node_id, node in doc.menu.nodes.items():
        used.setdefault(node.prompt, _where(paths, node_id))
    for topic in doc.topics:
        if topic.after_hours and topic.after_hours.prompt:
            used.setdefault(topic.after_hours.prompt, f"topic {topic.id}, after hours")
    for queue in doc.queues:
        if queue.announcements.periodic_prompt:
            used.setdefault(queue.announcements.periodic_prompt, f"queue {queue.name}, announcements")
    if doc.survey:
        for prompt_id in filter(None, (doc.survey.prompt, doc.survey.thanks)):
            used.setdefault(prompt_id, "survey")
    for prompt_id, where in used.items():
        if prompt_id.startswith(CORE_PREFIX):
            continue
        sources = doc.prompts.get(prompt_id)
        if sources is None:
            yield Issue(where, f"prompt '{prompt_id}' does not exist")
            continue
        missing = [lang for lang in doc.languages if lang not in sources]
        if missing:
            yield Issue(f"prompt {prompt_id}", f"has no {', '.join(missing)} version (used at {where})")
        for lang, source in sources.items():
            if (source.text is None) == (source.recording is None):
                yield Issue(f"prompt {prompt_id} ({lang})", "needs exactly one of text or recording")
