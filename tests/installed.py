"""The hotline as a user installs it: a wheel built from this working tree, installed without
extras into a fresh virtualenv (no dev tools there: no pytest, no httpx), its commands run from
outside the source tree. Built once per test session, on first use (about 30 s).

The venv takes the runtime dependencies at the versions of the development venv (its
``pip freeze`` as constraints): the versions the rest of the suite tests, mostly from pip's cache.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_PINNED = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==\S+$")


@dataclass(frozen=True)
class Installed:
    source: Path  # the copy of the working tree the wheel was built from
    venv: Path
    wheel: Path
    seconds: float  # what building the wheel and the venv took

    @property
    def hotline(self) -> Path:
        return self.venv / "bin" / "hotline"

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def env(self) -> dict[str, str]:
        """This environment less what would point the installed code elsewhere."""
        drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")
        return {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("HOTLINE_")}

    def run(self, *args: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``hotline ARGS`` from the venv, in ``cwd`` (never the source tree)."""
        return self._run([str(self.hotline), *args], cwd, timeout)

    def python_run(self, code: str, cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return self._run([str(self.python), "-c", code], cwd, timeout)

    def _run(self, argv: Sequence[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess[str]:
        assert not cwd.resolve().is_relative_to(ROOT), "run it outside the source tree"
        return subprocess.run(argv, cwd=cwd, env=self.env(), capture_output=True, text=True, timeout=timeout)


def _check(argv: Sequence[str], cwd: Path | None = None) -> str:
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(argv)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _working_tree(dest: Path) -> Path:
    """The files ``pip install .`` would see (tracked or new, not ignored), copied: the build
    writes build/ and *.egg-info beside them, which must not land in the shared checkout."""
    listed = _check(["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], ROOT)
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():  # a deletion not yet staged is still listed
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def _constraints(path: Path) -> Path:
    frozen = _check([sys.executable, "-m", "pip", "freeze", "--exclude-editable"])
    path.write_text("\n".join(line for line in frozen.splitlines() if _PINNED.match(line)) + "\n")
    return path


def build_installed(tmp: Path) -> Installed:
    started = time.monotonic()
    source = _working_tree(tmp / "source")
    _check(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(tmp / "dist"), str(source)]
    )
    [wheel] = (tmp / "dist").glob("hotline-*.whl")
    venv = tmp / "venv"
    _check([sys.executable, "-m", "venv", str(venv)])
    constraints = _constraints(tmp / "constraints.txt")
    _check(
        [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "-c", str(constraints), str(wheel)]
    )
    return Installed(source, venv, wheel, time.monotonic() - started)


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    built = build_installed(tmp_path_factory.mktemp("installed"))
    print(f"\nwheel built and installed into a fresh venv in {built.seconds:.1f} s")
    return built
