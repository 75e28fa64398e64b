"""A local Asterisk 22 for development, tests and the demo, without Docker.

A Debian testing chroot with Debian's Asterisk packages is built once and cached (shared by
every checkout on the machine). Each instance keeps its own rendered configuration, logs, spool
and run files in ``sandbox.directory``; Asterisk runs inside a private mount namespace where that
directory is bind-mounted at ``/srv/hotline`` together with ``/proc`` and ``/dev``. When Asterisk
exits the namespace and its mounts disappear with it: nothing is left mounted on the host.

Needs root (chroot, mounts). The other way to run Asterisk is docker-compose.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from agents.directory import Operator
from core.settings import Settings
from dialplan.check import check
from dialplan.render import render, write
from dialplan.render_nodes import local_queue_names
from dialplan.targets import node_settings, sandbox_place, sandbox_target
from ivr.document import IvrDocument

MOUNT_POINT = "/srv/hotline"
SUITE = "forky"
MIRROR = "http://deb.debian.org/debian"
DEBOOTSTRAP_SCRIPT = "/usr/share/debootstrap/scripts/sid"
PACKAGES = (
    "asterisk",
    "asterisk-modules",
    "asterisk-core-sounds-en",
    "asterisk-core-sounds-ru",
    "asterisk-moh-opsound-gsm",
)
# Bump when PACKAGES or the build steps change: the cache is rebuilt.
BUILD_STAMP = "hotline-sandbox-1 " + " ".join(PACKAGES)
INSTANCE_DIRS = ("etc", "log", "spool", "run", "lib", "cache", "sounds")


class SandboxError(RuntimeError):
    """The sandbox cannot do what was asked; the message says what is missing."""


@dataclass(frozen=True)
class SandboxStatus:
    running: bool
    pid: int | None
    booted: bool
    directory: Path


def _run(cmd: list[str], what: str, timeout: float = 900) -> None:
    try:
        subprocess.run(cmd, check=True, timeout=timeout, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except FileNotFoundError as exc:
        raise SandboxError(f"{what}: {cmd[0]} is not installed") from exc
    except subprocess.CalledProcessError as exc:
        tail = exc.stdout.decode(errors="replace")[-2000:] if exc.stdout else ""
        raise SandboxError(f"{what} failed (exit {exc.returncode}):\n{tail}") from exc


class Sandbox:
    """One node's Asterisk (``node``: its name; the first node when None). Every node of a line
    runs its own, in its own directory with its own ports (core/nodes.py)."""

    def __init__(self, settings: Settings, node: str | None = None) -> None:
        self.settings = settings
        self.node = node_settings(settings, node)
        self.place = sandbox_place(settings, self.node)
        self.root = settings.sandbox.root_cache
        self.directory = self.place.directory.resolve()
        self.pid_file = self.directory / "run" / "sandbox.pid"

    # -- the cached chroot --------------------------------------------------------------------
    def ensure_root(self) -> None:
        """Build the chroot once; concurrent callers wait for the first builder."""
        if self._root_ready():
            return
        self.root.parent.mkdir(parents=True, exist_ok=True)
        with self._lock(self.root.parent / (self.root.name + ".lock")):
            if not self._root_ready():
                self._build_root()

    def _root_ready(self) -> bool:
        stamp = self.root / "etc" / "hotline-sandbox"
        return stamp.exists() and stamp.read_text(encoding="utf-8").strip() == BUILD_STAMP

    def _build_root(self) -> None:
        _require_root()
        if not Path(DEBOOTSTRAP_SCRIPT).exists():
            raise SandboxError("debootstrap is missing: apt-get install debootstrap")
        tmp = self.root.with_name(self.root.name + ".build")
        shutil.rmtree(tmp, ignore_errors=True)
        _run(
            ["debootstrap", "--variant=minbase", SUITE, str(tmp), MIRROR, DEBOOTSTRAP_SCRIPT],
            "debootstrap of Debian testing",
        )
        env_install = ["chroot", str(tmp), "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]
        _run(
            [*env_install, "install", "-y", "--no-install-recommends", *PACKAGES],
            "installing Asterisk",
        )
        _run(["chroot", str(tmp), "apt-get", "clean"], "cleaning the apt cache")
        (tmp / "etc" / "hotline-sandbox").write_text(BUILD_STAMP + "\n", encoding="utf-8")
        shutil.rmtree(self.root, ignore_errors=True)
        tmp.rename(self.root)

    @staticmethod
    @contextlib.contextmanager
    def _lock(path: Path) -> Iterator[None]:
        with path.open("w") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # -- one instance -------------------------------------------------------------------------
    def render(self, doc: IvrDocument, operators: Sequence[Operator] = ()) -> None:
        for name in INSTANCE_DIRS:
            (self.directory / name).mkdir(parents=True, exist_ok=True)
        etc = self.directory / "etc"
        name = self.node.name
        target = sandbox_target(self.settings, MOUNT_POINT, name)
        write(render(self.settings, target, doc, operators, name), etc)
        check(etc, local_queue_names(doc, name))

    def up(self, doc: IvrDocument, operators: Sequence[Operator] = ()) -> SandboxStatus:
        _require_root()
        self.ensure_root()
        if self.status().running:
            self.down()
        self._ports_free()
        self.render(doc, operators)
        pid = self._start()
        self._wait_booted(pid)
        return self.status()

    def _ports_free(self) -> None:
        """Another Asterisk (an earlier sandbox that was never stopped) on our ports would take
        our callers and refuse our AMI login: say so instead of starting a second one."""
        sandbox, node = self.place, self.node
        for kind, host, port in (
            (socket.SOCK_DGRAM, sandbox.sip_host, sandbox.sip_port),
            (socket.SOCK_STREAM, node.ami_host, node.ami_port),
        ):
            with socket.socket(socket.AF_INET, kind) as probe:
                if kind == socket.SOCK_STREAM:  # a closed AMI port in TIME_WAIT is free
                    probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                try:
                    probe.bind((host, port))
                except OSError as exc:
                    what = "SIP (UDP)" if kind == socket.SOCK_DGRAM else "AMI (TCP)"
                    raise SandboxError(
                        f"{what} port {host}:{port} is in use: another Asterisk or sandbox still runs"
                        f" (see `ss -lunpt | grep {port}`); stop it first ({exc.strerror})"
                    ) from exc

    def _start(self) -> int:
        (self.root / MOUNT_POINT.lstrip("/")).mkdir(parents=True, exist_ok=True)
        script = (
            'set -e; r="$1"; d="$2"; '
            'mount -t proc proc "$r/proc"; mount --rbind /dev "$r/dev"; '
            f'mount --bind "$d" "$r{MOUNT_POINT}"; '
            # Every node plays the line's prompts (the service writes them in one place).
            f'if [ "$3" != "$d/sounds" ]; then mount --bind "$3" "$r{MOUNT_POINT}/sounds"; fi; '
            f'exec chroot "$r" /usr/sbin/asterisk -f -C {MOUNT_POINT}/etc/asterisk.conf'
        )
        console = (self.directory / "log" / "console.log").open("ab")
        with console:
            proc = subprocess.Popen(
                [
                    "unshare",
                    "--mount",
                    "--propagation",
                    "private",
                    "--",
                    "sh",
                    "-c",
                    script,
                    "sandbox",
                    str(self.root),
                    str(self.directory),
                    str(self._prompts()),
                ],
                stdin=subprocess.DEVNULL,
                stdout=console,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{proc.pid}\n", encoding="utf-8")
        return proc.pid

    def _prompts(self) -> Path:
        prompts = self.settings.prompts_dir.resolve()
        prompts.mkdir(parents=True, exist_ok=True)
        return prompts

    def _wait_booted(self, pid: int) -> None:
        deadline = time.monotonic() + self.settings.sandbox.boot_timeout_seconds
        while time.monotonic() < deadline:
            if not _alive(pid):
                raise SandboxError(
                    f"Asterisk exited during start; see {self.directory / 'log' / 'messages.log'}"
                    f" and {self.directory / 'log' / 'console.log'}"
                )
            with contextlib.suppress(SandboxError):
                if "fully booted" in self.cli("core waitfullybooted", timeout=5).lower():
                    return
            time.sleep(0.2)
        raise SandboxError(
            f"Asterisk did not finish booting within {self.settings.sandbox.boot_timeout_seconds} s"
        )

    def _pid(self) -> int | None:
        try:
            pid = int(self.pid_file.read_text(encoding="utf-8").strip())
        except (OSError, ValueError):
            return None
        return pid if _alive(pid) else None

    def cli(self, command: str, timeout: float = 30) -> str:
        """Run one Asterisk CLI command in the running sandbox and return its output."""
        pid = self._pid()
        if pid is None:
            raise SandboxError("the sandbox Asterisk is not running: hotline sandbox up")
        cmd = [
            "nsenter",
            f"--target={pid}",
            "--mount",
            "--",
            "chroot",
            str(self.root),
            "/usr/sbin/asterisk",
            "-C",
            f"{MOUNT_POINT}/etc/asterisk.conf",
            "-n",
            "-rx",
            command,
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, check=False)
        except subprocess.TimeoutExpired as exc:
            raise SandboxError(f"asterisk -rx {command!r} timed out") from exc
        if done.returncode != 0:
            raise SandboxError(f"asterisk -rx {command!r} failed: {done.stderr.decode(errors='replace')}")
        return done.stdout.decode(errors="replace")

    def status(self) -> SandboxStatus:
        pid = self._pid()
        booted = False
        if pid is not None:
            with contextlib.suppress(SandboxError):
                booted = "fully booted" in self.cli("core waitfullybooted", timeout=5).lower()
        return SandboxStatus(running=pid is not None, pid=pid, booted=booted, directory=self.directory)

    def down(self, timeout: float = 15) -> None:
        pid = self._pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + timeout
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            if _alive(pid):
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)


def _alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        waited = 0
    if waited == pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def _require_root() -> None:
    if os.geteuid() != 0:
        raise SandboxError(
            "the local Asterisk sandbox needs root (chroot, mounts): run as root, or run Asterisk"
            " with docker-compose (see README)"
        )
