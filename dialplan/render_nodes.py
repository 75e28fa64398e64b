"""Several Asterisk nodes, one line: what one node's configuration says of the others.

A queue of the IVR document lives on every node (``node`` unset: each node with its own
operators) or on one node (a region). Each node renders only the queues that live there; a
queue of another node is a *remote queue*: a call for it (the topic's own queue, or its overflow
after a wait or when too many wait) leaves over SIP to that node, as "anonymous", with the call's
id, priority and survey as SIP headers (never the caller's number). The receiving node puts the
caller in its queue at that priority and tells AMI where the call began (a ``HotlineHandover``
user event), so the service keeps one record per call (metrics/records/handovers.py).

Between nodes, each knows each other as a PJSIP endpoint ``hotline-node-<name>``: calls come
in with that From user and must answer a digest challenge with the line's node secret (derived
from the FastAGI secret, which every node of a line already shares), and leave to the peer's SIP
address. If the other node does not answer within ``PEER_ANSWER_SECONDS``, a human here takes
the call (the fallback queue).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from core.nodes import AsteriskNodeSettings
from core.settings import Settings
from dialplan.check import ConfigCheckError
from dialplan.targets import sip_peer
from ivr.document import IvrDocument, Queue
from telephony import variables as v
from telephony.events import HANDOVER

NODE_MODULES: tuple[str, ...] = (
    "res_pjsip_header_funcs.so",  # PJSIP_HEADER: the call's id and priority between nodes
    "func_dialplan.so",  # DIALPLAN_EXISTS: is this queue another node's?
    "app_userevent.so",  # UserEvent: where a call from another node began
)
ENDPOINT_PREFIX = "hotline-node-"
CONTEXT_REMOTE = "hotline-remote"  # exten: a queue of another node
CONTEXT_TO_NODE = "hotline-to-node"
CONTEXT_FROM_NODE = "hotline-from-node"  # calls from the other nodes; exten: the queue
CONTEXT_HEADERS = "hotline-node-headers"  # Dial's pre-dial handler on the leg to the other node
PEER_ANSWER_SECONDS = 10
# SIP headers between nodes (the receiving node reads them only on calls of a node endpoint).
HEADER_CALL = "X-Hotline-Node-Call"
HEADER_PRIORITY = "X-Hotline-Node-Priority"
HEADER_SURVEY = "X-Hotline-Node-Survey"
HEADER_OVERFLOW_QUEUE = "X-Hotline-Node-Overflow-Queue"
HEADER_OVERFLOW_AFTER = "X-Hotline-Node-Overflow-After"
HEADER_OVERFLOW_WAITING = "X-Hotline-Node-Overflow-Waiting"


@dataclass(frozen=True)
class Peer:
    name: str
    endpoint: str
    host: str
    port: int


@dataclass(frozen=True)
class RemoteQueue:
    name: str
    endpoint: str  # the node it lives on


def endpoint(node: str) -> str:
    return f"{ENDPOINT_PREFIX}{node}"


def lives_on(queue: Queue, node: str) -> bool:
    return queue.lives_on(node)


def local_queue_names(doc: IvrDocument, node: str) -> list[str]:
    """The queues this node's queues.conf must have."""
    return [q.name for q in doc.queues if lives_on(q, node)]


def node_secret(settings: Settings) -> str:
    """The digest password between the line's nodes: derived from the FastAGI secret, which
    every node's configuration already holds (a node that has one can reach the service)."""
    agi = (settings.agi.secret_value() or "").encode()
    return hmac.new(agi, b"hotline node trunk", hashlib.sha256).hexdigest()[:32]


def _check_known(settings: Settings, doc: IvrDocument) -> None:
    known = {n.name for n in settings.asterisk}
    for queue in doc.queues:
        if queue.node is not None and queue.node not in known:
            raise ConfigCheckError(
                f"queue '{queue.name}' lives on node '{queue.node}', which is not one of this"
                f" line's Asterisk nodes ({', '.join(sorted(known))}): add it under asterisk: in"
                " the settings, or change the queue's node"
            )


def nodes_context(settings: Settings, doc: IvrDocument, node: AsteriskNodeSettings) -> dict[str, Any]:
    _check_known(settings, doc)
    others = [n for n in settings.asterisk if n.name != node.name]
    peers = [Peer(n.name, endpoint(n.name), *sip_peer(settings, n)) for n in others]
    remote = [RemoteQueue(q.name, endpoint(q.node)) for q in doc.queues if q.node and q.node != node.name]
    return {
        "nodes": {
            "peers": peers,
            "remote": remote,
            "self_user": endpoint(node.name),
            "secret": node_secret(settings) if peers else "",
            "remote_context": CONTEXT_REMOTE,
            "to_context": CONTEXT_TO_NODE,
            "from_context": CONTEXT_FROM_NODE,
            "headers_context": CONTEXT_HEADERS,
            "prefix_length": len(ENDPOINT_PREFIX),
            "answer_seconds": PEER_ANSWER_SECONDS,
            "handover": HANDOVER,
            "var": {
                "survey": v.SURVEY,
                "overflow_after": v.OVERFLOW_AFTER,
                "overflow_waiting": v.OVERFLOW_WAITING,
            },
            "header": {
                "call": HEADER_CALL,
                "priority": HEADER_PRIORITY,
                "survey": HEADER_SURVEY,
                "overflow_queue": HEADER_OVERFLOW_QUEUE,
                "overflow_after": HEADER_OVERFLOW_AFTER,
                "overflow_waiting": HEADER_OVERFLOW_WAITING,
            },
        }
    }
