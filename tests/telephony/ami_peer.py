"""A fake Asterisk AMI server over real TCP, and the recorded AMI streams it replays.

It speaks just enough of the Asterisk 22 manager protocol for the AMI client tests: the
banner, Login (accepted or refused by secret; a refused session is closed, as Asterisk
does; an accepted one gets FullyBooted), Ping, QueueAdd, QueueStatus and CoreShowChannels
(the recorded EventLists of ``queue_status.txt`` and ``core_show_channels.txt`` under the
request's ActionID), Reload and PJSIPShowEndpoints (the softphone accounts of the
``pjsip.conf`` in ``config_dir`` as of the last ``res_pjsip.so`` reload, as Asterisk would
list them) and an error otherwise. Every Reload and PJSIPShowEndpoints is kept, in order.
Tests can push recorded events, drop every connection, or stall the current ones (a
half-open link: nothing is answered any more, the socket stays open). Later connections
are served normally.
"""

from __future__ import annotations

import asyncio
import configparser
import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "ami"
BANNER = b"Asterisk Call Manager/9.0.0\r\n"
EOL = "\r\n"
USERNAME = "hotline"
SECRET = "peer-secret-5b7e2a"
FULLY_BOOTED = "Event: FullyBooted\r\nPrivilege: system,all\r\nUptime: 4\r\nLastReload: 4\r\n"
FULLY_BOOTED += "Status: Fully Booted\r\n"


def read_stream(name: str) -> str:
    """A recorded stream as sent on the wire (CRLF kept)."""
    return (FIXTURES / name).read_bytes().decode("utf-8")


def split_messages(stream: str) -> list[str]:
    """The messages of a stream, each without its terminating blank line."""
    return [block for block in stream.split(EOL + EOL) if block.strip()]


def fixture_names() -> list[str]:
    return sorted(path.name for path in FIXTURES.glob("*.txt"))


def _headers(block: str) -> dict[str, str]:
    headers: dict[str, str] = {}
    for line in block.split(EOL):
        key, sep, value = line.partition(": ")
        if sep:
            headers[key.lower()] = value
    return headers


def _reply(action_id: str, response: str, *lines: str) -> bytes:
    text = EOL.join([f"Response: {response}", f"ActionID: {action_id}", *lines])
    return (text + EOL + EOL).encode()


@dataclass(eq=False)
class _Client:
    writer: asyncio.StreamWriter
    logged_in: bool = False
    stalled: bool = False


@dataclass
class FakeAsterisk:
    secret: str = SECRET
    answer_pings: bool = True
    connections: int = 0
    logins: int = 0
    refused_logins: int = 0
    resyncs: int = 0
    censuses: int = 0
    refuse_census: bool = False
    answered_notes: dict[str, str] = field(default_factory=dict)  # AstDB hotline_answered: id -> epoch
    db_actions: list[str] = field(default_factory=list)  # DBGetTree, DBDelTree, in order
    pings: int = 0
    login_events: list[str] = field(default_factory=list)
    connected_at: list[float] = field(default_factory=list)
    actions: list[dict[str, str]] = field(default_factory=list)  # Reload, PJSIPShowEndpoints
    config_dir: Path | None = None  # where the service writes pjsip.conf (read on its reload)
    accounts: dict[str, str] = field(default_factory=dict)  # softphone account -> md5_cred, loaded
    _clients: set[_Client] = field(default_factory=set)
    _server: asyncio.Server | None = None
    _port: int = 0

    async def start(self, port: int = 0) -> int:
        """Listen (again, after :meth:`close`, on the same ``port``: Asterisk back)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", port)
        self._port = self._server.sockets[0].getsockname()[1]
        return self.port

    def reloads(self) -> list[str]:
        return [a.get("module", "") for a in self.actions if a.get("action", "").lower() == "reload"]

    @property
    def port(self) -> int:
        """Where it listens, or listened until :meth:`close`."""
        assert self._port, "never started"
        return self._port

    async def close(self) -> None:
        self.drop()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def push(self, *messages: str) -> None:
        """Send events (blocks without their blank line) to every logged-in client."""
        data = "".join(message + EOL + EOL for message in messages).encode()
        for client in list(self._clients):
            if client.logged_in and not client.stalled:
                client.writer.write(data)
                await client.writer.drain()

    def drop(self) -> None:
        """Abort every connection (as if Asterisk restarted)."""
        for client in list(self._clients):
            client.writer.transport.abort()

    def stall(self) -> None:
        """Current connections stop answering anything but stay open: a half-open link."""
        for client in self._clients:
            client.stalled = True

    async def wait_until(self, predicate: Callable[[], bool], within: float = 3.0) -> None:
        deadline = time.monotonic() + within
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError("condition not reached in time")
            await asyncio.sleep(0.005)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        client = _Client(writer)
        self._clients.add(client)
        self.connections += 1
        self.connected_at.append(time.monotonic())
        try:
            writer.write(BANNER)
            while True:
                block = (await reader.readuntil(b"\r\n\r\n")).decode()
                if not client.stalled:
                    await self._answer(client, _headers(block))
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            self._clients.discard(client)
            writer.close()

    async def _answer(self, client: _Client, action: dict[str, str]) -> None:
        name, action_id = action.get("action", "").lower(), action.get("actionid", "")
        if name == "login":
            await self._login(client, action, action_id)
        elif not client.logged_in:
            client.writer.write(_reply(action_id, "Error", "Message: Permission denied"))
        elif name == "reload":
            self.actions.append(action)
            if action.get("module") == "res_pjsip.so":
                self.accounts = self._pjsip_accounts()
            client.writer.write(_reply(action_id, "Success", "Message: Module Reloaded"))
        elif name == "pjsipshowendpoints":
            self.actions.append(action)
            client.writer.write(self._endpoints(action_id).encode())
        elif name == "ping" and self.answer_pings:
            self.pings += 1
            timestamp = f"Timestamp: {time.time():.6f}"
            client.writer.write(_reply(action_id, "Success", "Ping: Pong", timestamp))
        elif name == "queueadd":  # the reply panoramisk 1.4 mistakes for an event list
            client.writer.write(_reply(action_id, "Success", "Message: Added interface to queue"))
        elif name == "originate":  # an async Originate's outcome would follow as an event
            client.writer.write(_reply(action_id, "Success", "Message: Originate successfully queued"))
        elif name == "queuestatus":
            self.resyncs += 1
            client.writer.write(self._recorded("queue_status.txt", action_id).encode())
        elif name == "coreshowchannels":
            self.censuses += 1
            if self.refuse_census:
                client.writer.write(_reply(action_id, "Error", "Message: Permission denied"))
            else:
                client.writer.write(self._recorded("core_show_channels.txt", action_id).encode())
        elif name in ("dbgettree", "dbdeltree"):
            self.db_actions.append(action["action"])
            client.writer.write(self._astdb(name, action, action_id))
        elif name != "ping":
            client.writer.write(_reply(action_id, "Error", "Message: Invalid/unknown command"))
        await client.writer.drain()

    def _astdb(self, name: str, action: dict[str, str], action_id: str) -> bytes:
        """Asterisk 22's replies (main/db.c) for the one family the service uses."""
        family = action.get("family", "")
        if name == "dbdeltree":
            if family != "hotline_answered" or not self.answered_notes:
                return _reply(action_id, "Error", "Message: Database entry not found")
            self.answered_notes.clear()
            return _reply(action_id, "Success", "Message: Key tree deleted successfully")
        notes = self.answered_notes if family == "hotline_answered" else {}
        head = _reply(action_id, "Success", "EventList: start", "Message: Result will follow")
        entries = [f"Event: DBGetTreeResponse{EOL}Key: /{family}/{k}{EOL}Val: {v}{EOL}ActionID: {action_id}"
                   for k, v in notes.items()]  # fmt: skip
        done = ["Event: DBGetTreeComplete", f"ActionID: {action_id}", "EventList: Complete"]
        tail = EOL.join([*done, f"ListItems: {len(notes)}"])
        return head + "".join(e + EOL + EOL for e in entries).encode() + (tail + EOL + EOL).encode()

    async def _login(self, client: _Client, action: dict[str, str], action_id: str) -> None:
        self.login_events.append(action.get("events", ""))
        if action.get("username") != USERNAME or action.get("secret") != self.secret:
            self.refused_logins += 1
            client.writer.write(_reply(action_id, "Error", "Message: Authentication failed"))
            await client.writer.drain()
            client.writer.close()
            return
        self.logins += 1
        client.logged_in = True
        accepted = _reply(action_id, "Success", "Message: Authentication accepted")
        client.writer.write(accepted + (FULLY_BOOTED + EOL).encode())

    def _pjsip_accounts(self) -> dict[str, str]:
        """The md5 credentials of pjsip.conf's ``type = auth`` sections (each account's name)."""
        if self.config_dir is None:
            return {}
        parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=(";",))
        accounts: dict[str, str] = {}
        text = (self.config_dir / "pjsip.conf").read_text(encoding="utf-8")
        for block in text.split("\n["):  # a section name repeats (auth, aor, endpoint): one at a time
            parser.clear()
            with contextlib.suppress(configparser.Error):
                parser.read_string("[" + block.lstrip("["))
                for name in parser.sections():
                    if parser[name].get("type") == "auth" and "md5_cred" in parser[name]:
                        accounts[name] = parser[name]["md5_cred"]
        return accounts

    def _endpoints(self, action_id: str) -> str:
        head = f"Response: Success{EOL}ActionID: {action_id}{EOL}EventList: start{EOL}Message: Endpoints"
        items = [
            f"Event: EndpointList{EOL}ActionID: {action_id}{EOL}ObjectName: {name}" for name in self.accounts
        ]
        end = f"Event: EndpointListComplete{EOL}ActionID: {action_id}{EOL}EventList: Complete"
        return "".join(block + EOL + EOL for block in [head, *items, f"{end}{EOL}ListItems: {len(items)}"])

    @staticmethod
    def _recorded(name: str, action_id: str) -> str:
        lines = read_stream(name).split(EOL)
        return EOL.join(f"ActionID: {action_id}" if line.startswith("ActionID: ") else line for line in lines)
