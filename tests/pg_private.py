"""A private PostgreSQL server for tests that stop and start their database: Debian's own
binaries (``/usr/lib/postgresql/<version>/bin``: initdb, pg_ctl; package ``postgresql``, which
scripts/system-deps installs) in a temporary folder, on a free port of 127.0.0.1, its socket in
that folder, so nothing is shared with the machine's cluster on 5432.

PostgreSQL refuses to run as root: as root it runs as the ``postgres`` user (made by the Debian
package) through ``runuser``; as anyone else, as that user. :meth:`PrivatePostgres.stop` and
:meth:`PrivatePostgres.start` keep the data; :meth:`PrivatePostgres.destroy` stops it and
removes the folder. Outside CI a machine without the binaries skips the tests that need it; in
CI (``CI=true``) it fails them.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

SERVER_USER = "postgres"
OWNER = "owner.pid"  # the test process that made the server


def _binaries() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parent.parent.name))
    return found[-1].parent if found else None


def unavailable() -> str | None:
    """Why no private server can run here, or None."""
    if _binaries() is None:
        return "no PostgreSQL server binaries in /usr/lib/postgresql (Debian package postgresql)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SERVER_USER)
        except KeyError:
            return f"running as root and no {SERVER_USER!r} user to run PostgreSQL as"
        if shutil.which("runuser") is None:
            return "running as root without runuser (util-linux)"
    return None


def require() -> None:
    if reason := unavailable():
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class PrivatePostgres:
    def __init__(self) -> None:
        bin_dir = _binaries()
        assert bin_dir is not None, unavailable()
        self._bin = bin_dir
        self.root = Path(tempfile.mkdtemp(prefix="hotline-pg-"))
        (self.root / OWNER).write_text(str(os.getpid()))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = _free_port()
        self.running = False
        try:
            if os.geteuid() == 0:
                user = pwd.getpwnam(SERVER_USER)
                os.chown(self.root, user.pw_uid, user.pw_gid)
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C"
            )
        except BaseException:
            shutil.rmtree(self.root, ignore_errors=True)
            raise

    def _run(self, tool: str, *args: str) -> None:
        done = _tool(self._bin, self.root, tool, *args)
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""
            raise RuntimeError(f"{tool} failed ({done.returncode}): {done.stderr[-2000:]}\n{log}")

    def start(self) -> None:
        if self.running:
            return
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl", "start", "-w", "-t", "60", "-D", str(self.data), "-l", str(self.log), "-o", options
        )
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """``fast``: a clean shutdown; ``immediate``: as after a crash (recovery at the next start)."""
        if self.running:
            self._run("pg_ctl", "stop", "-w", "-D", str(self.data), "-m", mode)
            self.running = False

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self) -> str:
        """A new empty database; its SQLAlchemy URL."""
        name = f"hotline_{uuid.uuid4().hex[:10]}"
        admin = create_engine(self.url(), isolation_level="AUTOCOMMIT")
        try:
            with admin.connect() as conn:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        finally:
            admin.dispose()
        return self.url(name)

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _tool(bin_dir: Path, cwd: Path, tool: str, *args: str) -> subprocess.CompletedProcess[str]:
    command = [str(bin_dir / tool), *args]
    if os.geteuid() == 0:
        command = ["runuser", "-u", SERVER_USER, "--", *command]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def sweep_stale() -> None:
    """Servers left by a test process that was killed (its finalisers never ran): stopped and
    removed, so a machine running the tests all day does not fill up with them."""
    bin_dir = _binaries()
    for root in Path(tempfile.gettempdir()).glob("hotline-pg-*"):
        try:
            owner = int((root / OWNER).read_text())
            os.kill(owner, 0)
        except ProcessLookupError:  # its owner is gone
            if bin_dir is not None and (root / "data").is_dir():
                _tool(bin_dir, root, "pg_ctl", "stop", "-D", str(root / "data"), "-m", "immediate")
            shutil.rmtree(root, ignore_errors=True)
        except (OSError, ValueError):  # being made, or its owner alive (or not ours to judge)
            continue


@pytest.fixture(scope="session")
def private_postgres_server() -> Iterator[PrivatePostgres]:
    """One private server per test session (initdb takes a second or two); see below."""
    require()
    sweep_stale()
    server = PrivatePostgres()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture
def private_postgres(private_postgres_server: PrivatePostgres) -> Iterator[PrivatePostgres]:
    """The private server, running; a test may stop and start it (and gets it running again)."""
    private_postgres_server.start()
    yield private_postgres_server
    private_postgres_server.start()
