"""Synthetic callers: real SIP calls with real RFC 2833 DTMF, placed with sipp.

Used by the demo, the tests, the benchmarks and the privacy check. Each call carries a
synthetic caller number (and display name) so that a scan can later prove none of them was
stored anywhere. sipp writes no files of its own here (no -trace_* options) and runs in a
temporary directory that is deleted afterwards.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from sandbox.scenarios import (
    DTMF_EVENTS,
    CallgenError,
    CallPlan,
    scenario,
)

_STATS = re.compile(r"^\s*(Successful|Failed) call\s*\|\s*\d+\s*\|\s*(\d+)", re.MULTILINE)


@dataclass(frozen=True)
class CallgenResult:
    planned: int
    successful: int
    failed: int
    exit_codes: tuple[int, ...]


def _injection(plans: list[CallPlan]) -> str:
    lines = ["SEQUENTIAL"]
    for p in plans:
        if not re.fullmatch(r"\+?[0-9]{3,20}", p.number) or ";" in p.name or '"' in p.name:
            raise CallgenError("a synthetic caller needs a number of digits and a plain name")
        if not set(p.digits) <= set(DTMF_EVENTS):
            raise CallgenError(f"keys {p.digits!r}: only 0-9, * and # can be pressed")
        lines.append(f"{p.number};{escape(p.name)};")
    return "\n".join(lines) + "\n"


def _shape(plan: CallPlan) -> tuple[str, int, int, int | None]:
    return (plan.digits, plan.first_digit_ms, plan.gap_ms, plan.hangup_after_ms)


class Callgen:
    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 5060,
        service: str = "8800",
        local_port_base: int = 25060,
        media_port_base: int = 26000,
        trace_dir: Path | None = None,
        local_ip: str = "127.0.0.1",
    ) -> None:
        """``trace_dir``: keep sipp's message and error logs there (they hold the synthetic
        numbers the callers send: for debugging synthetic calls only). ``local_ip``: the
        callers' own address (signalling and media), e.g. this host's outside one, to call an
        Asterisk behind NAT (the deploy test's docker-compose stack)."""
        if shutil.which("sipp") is None:
            raise CallgenError("sipp is not installed (Debian package sip-tester)")
        self.host, self.port, self.service = host, port, service
        self.local_port_base, self.media_port_base = local_port_base, media_port_base
        self.trace_dir = trace_dir
        self.local_ip = local_ip

    async def place(
        self,
        plans: list[CallPlan],
        concurrency: int = 10,
        rate: float = 10.0,
        timeout_s: float = 300,
    ) -> CallgenResult:
        """Place every call (one sipp process per call shape, all at once) and wait for all."""
        groups: dict[tuple[str, int, int, int | None], list[CallPlan]] = defaultdict(list)
        for plan in plans:
            groups[_shape(plan)].append(plan)
        with tempfile.TemporaryDirectory(prefix="hotline-callgen-") as tmp:
            runs = [
                self._run_group(Path(tmp), i, group, concurrency, rate, timeout_s)
                for i, group in enumerate(groups.values())
            ]
            results = await asyncio.gather(*runs)
        return CallgenResult(
            planned=len(plans),
            successful=sum(r[0] for r in results),
            failed=sum(r[1] for r in results),
            exit_codes=tuple(r[2] for r in results),
        )

    async def _run_group(
        self,
        tmp: Path,
        index: int,
        plans: list[CallPlan],
        concurrency: int,
        rate: float,
        timeout_s: float,
    ) -> tuple[int, int, int]:
        scen = tmp / f"caller{index}.xml"
        scen.write_text(scenario(plans[0], int(timeout_s * 1000), tmp), encoding="ascii")
        inj = tmp / f"callers{index}.csv"
        inj.write_text(_injection(plans), encoding="ascii")
        cmd = [
            "sipp",
            f"{self.host}:{self.port}",
            "-sf",
            str(scen),
            "-inf",
            str(inj),
            "-s",
            self.service,
            "-m",
            str(len(plans)),
            "-l",
            str(concurrency),
            "-r",
            str(rate),
            "-i",
            self.local_ip,
            "-mi",
            self.local_ip,
            "-p",
            str(self.local_port_base + index),
            "-mp",
            str(self.media_port_base + index * 200),
            "-timeout",
            f"{int(timeout_s)}s",
            "-timeout_error",
            "-nostdin",
            *(["-trace_msg", "-trace_err"] if self.trace_dir else []),
        ]
        proc = await asyncio.create_subprocess_exec(
            *cmd,
            cwd=tmp,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
        )
        out, _ = await proc.communicate()
        if self.trace_dir is not None:
            await asyncio.to_thread(_keep_logs, tmp, f"caller{index}_", self.trace_dir)
        stats = dict(_STATS.findall(out.decode(errors="replace")))
        ok, failed = int(stats.get("Successful", 0)), int(stats.get("Failed", 0))
        code = proc.returncode if proc.returncode is not None else -1
        return ok, failed if ok + failed else len(plans), code


def _keep_logs(tmp: Path, prefix: str, trace_dir: Path) -> None:
    trace_dir.mkdir(parents=True, exist_ok=True)
    for log in tmp.glob(f"{prefix}*.log"):
        shutil.copy(log, trace_dir / log.name)
