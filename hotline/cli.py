"""The ``hotline`` command."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
from collections.abc import Sequence
from pathlib import Path

from core import logs
from core.settings import Settings, SettingsError, load_settings
from hotline import __version__, admin_cli
from planning import cli as planning_cli


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="Crisis hotline on Asterisk 22")
    parser.add_argument("--version", action="version", version=f"hotline {__version__}")
    parser.add_argument("--config", type=Path, help="YAML settings file (default: hotline.yaml)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run FastAGI server, AMI consumer and HTTP API")
    sub.add_parser("run", help="start the sandbox Asterisk, then serve (the demo)")
    sub.add_parser("migrate", help="apply database migrations")
    sandbox = sub.add_parser("sandbox", help="the local Asterisk 22 (needs root)")
    sandbox_sub = sandbox.add_subparsers(dest="action", required=True)
    for action in ("up", "down", "status"):
        sandbox_sub.add_parser(action)
    cli = sandbox_sub.add_parser("cli", help="run one Asterisk CLI command")
    cli.add_argument("cli_command")
    call = sub.add_parser("call", help="place synthetic SIP calls into the sandbox (sipp)")
    call.add_argument("--digits", default="1", help="keys to press ('' presses nothing)")
    call.add_argument("--count", type=int, default=1)
    call.add_argument("--hangup-after", type=float, help="caller hangs up after this many seconds")
    sub.add_parser(
        "retention", help="roll call records older than privacy.retention_days into interval statistics"
    )
    check = sub.add_parser(
        "privacy-check",
        help="place synthetic calls on the sandbox hotline, then search every store for their numbers",
    )
    check.add_argument("--calls", type=int, default=24, help="synthetic calls to place (24)")
    check.add_argument("--first", type=int, default=1, help="first synthetic number: +7900000NNNN (1)")
    planning_cli.add_parser(sub)
    admin_cli.add_parser(sub)
    audit = sub.add_parser("audit", help="the audit log: who changed what")
    audit.add_argument(
        "action", choices=["verify"], help="verify: check the chain, name the first broken entry"
    )
    render = sub.add_parser("render-asterisk", help="write Asterisk config for a server")
    render.add_argument("--out", type=Path, required=True)
    render.add_argument("--node", help="the line's Asterisk node (asterisk[].name); the first by default")
    render.add_argument(
        "--permit",
        action="append",
        default=[],
        help="network allowed to reach AMI and SIP (repeat)",
    )
    return parser


def _serve(settings: Settings) -> int:
    from hotline.app import Hotline

    asyncio.run(Hotline(settings).run())
    return 0


def _sandbox(settings: Settings, args: argparse.Namespace) -> int:
    """Every sandbox node of the line (``asterisk:``), each its own Asterisk; ``cli``: the first."""
    from sandbox.asterisk import Sandbox

    boxes = [Sandbox(settings, n.name) for n in settings.asterisk if n.layout == "sandbox"]
    if args.action == "up":
        from dialplan.live import live_document, live_operators

        doc, operators = live_document(settings), live_operators(settings)
        for box in boxes:
            status = box.up(doc, operators)
            print(f"sandbox Asterisk {box.node.name} running (pid {status.pid}), files in {status.directory}")
            print(f"SIP udp {box.place.sip_host}:{box.place.sip_port}, AMI 127.0.0.1:{box.node.ami_port}")
    elif args.action == "down":
        for box in boxes:
            box.down()
            print(f"sandbox Asterisk {box.node.name} stopped")
    elif args.action == "status":
        running = [box.status() for box in boxes]
        for box, status in zip(boxes, running, strict=True):
            state = "running" if status.running else "stopped"
            where = f"pid: {status.pid}; files: {status.directory}"
            print(f"{box.node.name}: {state}; booted: {status.booted}; {where}")
        return 0 if all(status.running for status in running) else 3
    else:
        print(Sandbox(settings).cli(args.cli_command), end="")
    return 0


def _run(settings: Settings) -> int:
    from dialplan.live import live_document, live_operators
    from sandbox.asterisk import Sandbox

    doc, operators = live_document(settings), live_operators(settings)
    for node in (n for n in settings.asterisk if n.layout == "sandbox"):  # every node of the line
        Sandbox(settings, node.name).up(doc, operators)
    http = settings.http
    print(
        "hotline demo is up:\n"
        "  call it:   .venv/bin/hotline call --digits 21   (synthetic caller: English, crisis), or a\n"
        f"             softphone on this machine calling sip:8800@{settings.sandbox.sip_host}:"
        f"{settings.sandbox.sip_port}\n"
        f"  records:   http://{http.host}:{http.port}/api/calls\n"
        f"  metrics:   http://{http.host}:{http.port}/metrics\n"
        f"  health:    http://{http.host}:{http.port}/healthz\n"
        f"  admin:     http://{http.host}:{http.port}/admin/"
        f"  (token in {settings.var_dir}/secrets/admin-token)\n"
        f"  Asterisk:  hotline sandbox cli 'queue show'\n",
        flush=True,
    )
    return _serve(settings)


def _call(settings: Settings, args: argparse.Namespace) -> int:
    from sandbox.callgen import Callgen
    from sandbox.scenarios import CallPlan

    hangup = int(args.hangup_after * 1000) if args.hangup_after else None
    plans = [
        CallPlan(number=f"+7900000{n:04d}", digits=args.digits, hangup_after_ms=hangup)
        for n in range(1, args.count + 1)
    ]
    gen = Callgen(settings.sandbox.sip_host, settings.sandbox.sip_port)
    result = asyncio.run(gen.place(plans, timeout_s=600))
    print(f"{result.successful} of {result.planned} calls completed, {result.failed} failed")
    return 0 if result.failed == 0 else 1


def _render(settings: Settings, args: argparse.Namespace) -> int:
    from dialplan.check import check
    from dialplan.live import live_document
    from dialplan.render import render, server_target, write
    from dialplan.render_nodes import local_queue_names

    permit = tuple(str(ipaddress.ip_network(p, strict=False)) for p in args.permit)
    doc = live_document(settings)
    from dialplan.live import live_operators

    target = server_target(settings, permit or ("127.0.0.1/32",))
    node = args.node or settings.asterisk[0].name
    write(render(settings, target, doc, live_operators(settings), node), args.out)
    check(args.out, local_queue_names(doc, node))
    print(f"Asterisk configuration written to {args.out}")
    return 0


def _retention(settings: Settings) -> int:
    from datetime import timedelta

    from core.db import make_engine, migrate
    from metrics.records.retention import Retention

    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        result = Retention(engine, timedelta(days=settings.privacy.retention_days)).run_once()
    finally:
        engine.dispose()
    print(
        f"{result.records} call records that started before {result.cutoff:%Y-%m-%d %H:%M} UTC"
        f" (counted in {result.cells} interval cells, which stay) and deleted"
    )
    return 0


def _audit(settings: Settings) -> int:
    """Exit 0 when the chain is intact, 1 (naming the first broken entry) when it is not."""
    from core.audit import AuditStore, verify
    from core.db import make_engine, migrate

    engine = make_engine(settings.database_url)
    migrate(engine)
    verdict = verify(AuditStore(engine))
    print(verdict.line(), file=sys.stdout if verdict.ok else sys.stderr)
    return 0 if verdict.ok else 1


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        settings = load_settings(args.config)
    except SettingsError as exc:
        print(f"hotline: configuration error: {exc}", file=sys.stderr)
        return 2
    logs.setup(settings.log_level, settings.log_file)
    try:
        if args.command == "serve":
            return _serve(settings)
        if args.command == "run":
            return _run(settings)
        if args.command == "sandbox":
            return _sandbox(settings, args)
        if args.command == "call":
            return _call(settings, args)
        if args.command == "render-asterisk":
            return _render(settings, args)
        if args.command == "retention":
            return _retention(settings)
        if args.command == "audit":
            return _audit(settings)
        if args.command == "admin":
            return admin_cli.run(settings, args)
        if args.command == "plan":
            return planning_cli.run(settings, args)
        if args.command == "privacy-check":
            from sandbox.privacy_check import run as privacy_check

            return privacy_check(settings, args.calls, args.first)
        from core.db import make_engine, migrate

        migrate(make_engine(settings.database_url))
        return 0
    except KeyboardInterrupt:
        return 130
    except Exception as exc:
        from sandbox.asterisk import SandboxError

        if isinstance(exc, SandboxError):
            print(f"hotline: {exc}", file=sys.stderr)
            return 1
        raise


if __name__ == "__main__":
    sys.exit(main())
