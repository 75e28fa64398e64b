"""A plain `pip install` of the wheel (not editable, no extras) gives a working `hotline`: its
commands run from outside the source tree, without the dev tools, and find the Asterisk
templates, the seed IVR, the migrations and the static pages as package data."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sqlite3
import subprocess
import threading
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
import yaml

from dialplan.check import read
from dialplan.render import TEMPLATES
from hotline.cli import _parser
from tests.conftest import ROOT, seed_document
from tests.installed import Installed
from tests.telephony.ami_peer import SECRET, FakeAsterisk

PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]


def _commands(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every command and subcommand of the parser, the bare program first."""
    yield prefix
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield from _commands(sub, (*prefix, name))


def _requirement_name(requirement: str) -> str:
    return requirement.split(";")[0].split("[")[0].split("<")[0].split(">")[0].split("=")[0].strip()


def test_version(installed: Installed, tmp_path: Path) -> None:
    done = installed.run("--version", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (0, f"hotline {PROJECT['version']}\n"), done.stderr


def test_no_dev_extra_is_installed(installed: Installed, tmp_path: Path) -> None:
    dev = [_requirement_name(r) for r in PROJECT["optional-dependencies"]["dev"]]
    code = (
        "import importlib.metadata as m, importlib.util as u, json\n"
        f"names = {dev!r}\n"
        "def present(n):\n"
        "    try:\n"
        "        m.distribution(n)\n"
        "    except m.PackageNotFoundError:\n"
        "        return False\n"
        "    return True\n"
        "found = [n for n in names if present(n)] + [n for n in ('httpx', 'pytest') if u.find_spec(n)]\n"
        "print(json.dumps(found))"
    )
    done = installed.python_run(code, tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []
    assert "httpx" in dev and "pytest>=8" in PROJECT["optional-dependencies"]["dev"]


def test_every_module_imports_without_the_dev_extras(installed: Installed, tmp_path: Path) -> None:
    """Commands import most of their code only when they run: every module is imported here.
    (Migrations are scripts Alembic loads; `hotline render-asterisk` below runs them.)"""
    code = (
        "import importlib, importlib.metadata as m\n"
        "names = sorted(str(f)[:-3].replace('/', '.').removesuffix('.__init__')\n"
        "               for f in m.files('hotline') if str(f).endswith('.py'))\n"
        "for name in names:\n"
        "    if '.migrations' not in name:\n"
        "        importlib.import_module(name)\n"
        "print(len(names))"
    )
    done = installed.python_run(code, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert int(done.stdout) >= 100
    imported = installed.python_run("import dialplan; print(dialplan.__file__)", tmp_path).stdout
    assert Path(imported).is_relative_to(installed.venv), imported  # not the source tree


def test_every_command_has_help(installed: Installed, tmp_path: Path) -> None:
    commands = list(_commands(_parser()))
    assert {("serve",), ("render-asterisk",), ("privacy-check",), ("sandbox", "up")} <= set(commands)
    with ThreadPoolExecutor(4) as pool:
        runs = list(pool.map(lambda argv: installed.run(*argv, "--help", cwd=tmp_path), commands))
    for argv, done in zip(commands, runs, strict=True):
        assert done.returncode == 0, (argv, done.stderr[-2000:])
        assert done.stdout.startswith(f"usage: {' '.join(('hotline', *argv))}"), (argv, done.stdout)
        assert done.stderr == "", (argv, done.stderr)


def test_package_data_is_the_repository_s(installed: Installed, tmp_path: Path) -> None:
    """Every template, the seed, every migration and every page, byte for byte as in the working
    tree the wheel was built from."""
    site = Path(installed.python_run("import core; print(core.__file__)", tmp_path).stdout).parent.parent
    shipped = {
        "asterisk-config": site / "dialplan" / "asterisk-config",
        "hotline-ivr.yaml": site / "ivr" / "hotline-ivr.yaml",
        "core/migrations": site / "core" / "migrations",
        "hotline/static": site / "hotline" / "static",
    }
    for source, copy in shipped.items():
        assert _tree(installed.source / source) == _tree(copy), source


def _tree(path: Path) -> dict[str, bytes]:
    if path.is_file():
        return {path.name: path.read_bytes()}
    files = (p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
    return {str(p.relative_to(path)): p.read_bytes() for p in files}


def test_render_asterisk_from_the_shipped_templates_and_seed(installed: Installed, tmp_path: Path) -> None:
    """No configuration file: the defaults, the shipped seed IVR, a new SQLite database under
    ./var migrated by the shipped migrations."""
    done = installed.run("render-asterisk", "--out", "etc", cwd=tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert {p.name for p in (tmp_path / "etc").iterdir()} == set(TEMPLATES)
    queues = {name for name in read(tmp_path / "etc" / "queues.conf") if name != "general"}
    assert queues >= set(seed_document().queue_names())
    assert "agi://127.0.0.1:4573/ivr" in (tmp_path / "etc" / "extensions.conf").read_text()
    heads = {p.name.split("_")[0] for p in (installed.source / "core/migrations/versions").glob("0*.py")}
    with contextlib.closing(sqlite3.connect(tmp_path / "var" / "hotline.sqlite3")) as db:
        [(revision,)] = db.execute("SELECT version_num FROM alembic_version").fetchall()
    assert revision == max(heads)


def test_privacy_check_needs_no_dev_extra(installed: Installed, tmp_path: Path) -> None:
    """With no hotline answering it says so (it used to die importing httpx)."""
    config = _config(tmp_path, ami_port=_free_port(), http_port=_free_port())
    done = installed.run("--config", str(config), "privacy-check", cwd=tmp_path)
    assert done.returncode == 2, done.stderr[-3000:]
    assert "the hotline does not answer at" in done.stdout and "Traceback" not in done.stderr


def test_serve_finds_its_seed_migrations_and_pages(installed: Installed, tmp_path: Path) -> None:
    """`hotline serve` of a new install beside an Asterisk (a fake AMI peer): the shipped seed is
    published as version 1 into a database made by the shipped migrations, the pages are served."""
    with _fake_asterisk() as ami_port:
        http_port = _free_port()
        config = _config(tmp_path, ami_port, http_port)
        log = tmp_path / "serve.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(
                [str(installed.hotline), "--config", str(config), "serve"],
                cwd=tmp_path,
                env=installed.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        try:
            url = f"http://127.0.0.1:{http_port}"
            _wait_healthy(url, proc, log)
            # No admin token: a machine's token from the installed shell command reads the IVR.
            made = installed.run(
                "--config", str(config), "admin", "token", "packaging", "--scope", "ivr:read", "--days", "1",
                cwd=tmp_path,
            )  # fmt: skip
            assert made.returncode == 0, made.stderr[-2000:]
            token = made.stdout.splitlines()[0].strip()
            [version] = json.loads(_get(f"{url}/api/ivr/versions", token))
            assert (version["number"], version["active"]) == (1, True)
            assert version["note"] == "imported from hotline-ivr.yaml"
            assert b"<html" in _get(f"{url}/admin/").lower()
            assert _get(f"{url}/static/admin.js")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    assert "Traceback" not in log.read_text(errors="replace")


def _config(tmp: Path, ami_port: int, http_port: int) -> Path:
    """Settings of a new install: no seed named, no Asterisk configuration written on publish."""
    data: dict[str, Any] = {
        "var_dir": str(tmp / "var"),
        "database_url": f"sqlite:///{tmp / 'var' / 'hotline.sqlite3'}",
        "asterisk": [{"name": "local", "ami_port": ami_port, "ami_secret": SECRET}],
        "agi": {"host": "127.0.0.1", "port": _free_port()},
        "http": {"host": "127.0.0.1", "port": http_port},
        "prompts_dir": str(tmp / "sounds"),
    }
    path = tmp / "settings.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextlib.contextmanager
def _fake_asterisk() -> Iterator[int]:
    """The fake AMI peer of the telephony tests, on its own event loop in a thread."""
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    peer = FakeAsterisk()
    try:
        yield asyncio.run_coroutine_threadsafe(peer.start(), loop).result(10)
    finally:
        asyncio.run_coroutine_threadsafe(peer.close(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def _wait_healthy(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, log.read_text(errors="replace")[-3000:]
        with contextlib.suppress(OSError), urlopen(f"{url}/healthz", timeout=2):  # 503: AMI not yet
            return
        time.sleep(0.3)
    pytest.fail(f"hotline serve did not answer in {timeout:g} s:\n{log.read_text(errors='replace')[-3000:]}")


def _get(url: str, token: str | None = None) -> bytes:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        with urlopen(Request(url, headers=headers), timeout=10) as r:
            body: bytes = r.read()
            return body
    except HTTPError as error:
        raise AssertionError(f"GET {url}: HTTP {error.code} {error.read()[:500]!r}") from error
