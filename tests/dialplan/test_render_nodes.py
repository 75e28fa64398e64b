"""Two nodes, one line: each node's rendered configuration has its own queues, knows the other
node as a digest-authenticated PJSIP endpoint, and sends calls for the other node's queues there
(with the call's id and priority as headers, never the caller's number)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings, SettingsError
from dialplan.check import ConfigCheckError, check, read
from dialplan.render import render, sandbox_target, server_target, write
from dialplan.render_nodes import local_queue_names, node_secret
from ivr.codec import from_yaml
from ivr.document import IvrDocument
from ivr.validation import validate
from tests.conftest import ROOT, make_settings

DOC = ROOT / "tests" / "e2e" / "nodes.yaml"  # main on both nodes, support-a on a, support-b on b


def two_nodes(tmp: Path, **extra: Any) -> Settings:
    b_box = {"directory": str(tmp / "b"), "sip_port": 17070, "rtp_start": 12500, "rtp_end": 12999}
    nodes = [{"name": "a", "ami_port": 17038}, {"name": "b", "ami_port": 17048, "sandbox": b_box, **extra}]
    box = {"directory": str(tmp / "a"), "sip_port": 17060, "rtp_start": 12000, "rtp_end": 12499}
    return make_settings(tmp, asterisk=nodes, sandbox=box)


def rendered(settings: Settings, doc: IvrDocument, node: str, out: Path) -> dict[str, str]:
    files = render(settings, sandbox_target(settings, node=node), doc, (), node)
    write(files, out)
    check(out, local_queue_names(doc, node))
    return files


@pytest.fixture
def doc() -> IvrDocument:
    document = from_yaml(DOC.read_text(encoding="utf-8"))
    assert validate(document) == []
    return document


def test_each_node_has_its_own_queues_ports_and_ami(tmp_path: Path, doc: IvrDocument) -> None:
    settings = two_nodes(tmp_path)
    for node, own, other, sip, ami in (
        ("a", "support-a", "support-b", 17060, 17038),
        ("b", "support-b", "support-a", 17070, 17048),
    ):
        out = tmp_path / f"etc-{node}"
        files = rendered(settings, doc, node, out)
        queues = set(read(out / "queues.conf")) - {"general"}
        assert queues == {"main", own} | ({"urgent-a"} if node == "a" else set())
        assert f"HOTLINE_NODE = {node}" in files["extensions.conf"]
        assert dict(read(out / "pjsip.conf")["transport-udp"])["bind"] == f"127.0.0.1:{sip}"
        assert dict(read(out / "manager.conf")["general"])["port"] == str(ami)
        remote = read(out / "extensions.conf")["hotline-remote"]
        remote_queues = [value.split(",")[0] for key, value in remote if key == "exten"]
        assert remote_queues == ([other] if node == "a" else [other, "urgent-a"])


def test_the_other_node_is_a_digest_authenticated_endpoint(tmp_path: Path, doc: IvrDocument) -> None:
    settings = two_nodes(tmp_path)
    out = tmp_path / "etc-a"
    rendered(settings, doc, "a", out)
    pjsip = read(out / "pjsip.conf")
    endpoint = [dict(items) for name, items in _sections(out / "pjsip.conf") if name == "hotline-node-b"]
    types = {e["type"]: e for e in endpoint}
    assert types["aor"]["contact"] == "sip:127.0.0.1:17070"
    ep = types["endpoint"]
    assert (ep["context"], ep["auth"], ep["outbound_auth"]) == (
        "hotline-from-node",
        "hotline-node-auth",
        "hotline-node-auth",
    )
    assert ep["from_user"] == "hotline-node-a" and ep["send_pai"] == "no" and ep["send_rpid"] == "no"
    assert dict(pjsip["hotline-node-auth"])["password"] == node_secret(settings)
    assert (out / "pjsip.conf").stat().st_mode & 0o077 == 0


def _sections(path: Path) -> list[tuple[str, list[tuple[str, str]]]]:
    """Each ``[name]`` section in file order (pjsip.conf repeats names: aor, endpoint)."""
    out: list[tuple[str, list[tuple[str, str]]]] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(";", 1)[0].strip()
        if line.startswith("[") and line.endswith("]"):
            out.append((line[1:-1], []))
        elif "=" in line and out:
            key, value = (part.strip() for part in line.split("=", 1))
            out[-1][1].append((key, value))
    return out


def test_a_call_for_the_other_nodes_queue_leaves_anonymous_with_its_priority(
    tmp_path: Path, doc: IvrDocument
) -> None:
    files = rendered(two_nodes(tmp_path), doc, "a", tmp_path / "etc-a")
    ext = files["extensions.conf"]
    to_node = ext.split("[hotline-to-node]", 1)[1].split("\n\n", 1)[0]
    assert to_node.index("CALLERID(all)=anonymous") < to_node.index(
        "Dial(PJSIP/${HOTLINE_QUEUE}@${HOTLINE_PEER}"
    )
    headers = ext.split("[hotline-node-headers]", 1)[1].split("\n\n", 1)[0]
    assert "X-Hotline-Node-Call" in headers and "X-Hotline-Node-Priority" in headers
    assert "CALLERID(num)" not in ext and "CALLERID(name)" not in ext  # no number goes along
    # On arrival: the priority read back, the queue only if it lives here, AMI told where it began.
    from_node = ext.split("[hotline-from-node]", 1)[1].split("\n\n", 1)[0]
    assert "QUEUE_PRIO" not in from_node and "HOTLINE_PRIO=${FILTER(0-9," in from_node
    assert "UserEvent(HotlineHandover,FromNode: ${CHANNEL(endpoint):13}" in from_node


def test_one_node_renders_no_trunk_between_nodes(
    settings: Settings, document: IvrDocument, tmp_path: Path
) -> None:
    files = render(settings, sandbox_target(settings), document)
    assert "hotline-node" not in files["pjsip.conf"]
    assert (
        "hotline-remote" not in files["extensions.conf"]
        and "hotline-from-node" not in files["extensions.conf"]
    )


def test_a_queue_on_an_unknown_node_is_refused_with_its_name(tmp_path: Path, doc: IvrDocument) -> None:
    settings = make_settings(tmp_path)  # one node, "local"
    with pytest.raises(ConfigCheckError, match="queue 'support-a' lives on node 'a', which is not one of"):
        render(settings, sandbox_target(settings), doc)


def test_a_server_node_is_reached_at_its_address(tmp_path: Path, doc: IvrDocument) -> None:
    settings = two_nodes(tmp_path, layout="server", address="10.0.0.2", sip_port=5070)
    files = render(settings, server_target(settings, ("10.0.0.0/8",)), doc, (), "a")
    assert "contact = sip:10.0.0.2:5070" in files["pjsip.conf"]


def test_a_second_sandbox_node_needs_its_own_place(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="a second sandbox node needs its own directory and ports"):
        make_settings(tmp_path, asterisk=[{"name": "a"}, {"name": "b", "ami_port": 5039}])
    with pytest.raises(SettingsError, match="need an AMI port each"):
        make_settings(tmp_path, asterisk=[{"name": "a"}, {"name": "b", "layout": "server"}])
