"""The `wuye` command: serve, migrate, inspect, run the outbox worker, and area commands."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import threading
from collections.abc import Sequence

from core.config import Config, ConfigError, check_production, load_config
from core.db import upgrade
from core.logging import configure_logging
from wuye import cli_admin, cli_community, cli_desk, cli_knowledge, cli_nlu, cli_tickets

log = logging.getLogger("wuye")


def _serve(args: argparse.Namespace) -> int:
    """Demo: one process on Werkzeug. Otherwise gunicorn (the production path)."""
    overrides: dict[str, dict[str, object]] = {"server": {}}
    if args.demo:
        overrides["server"]["demo"] = True
    if args.workers:
        overrides["server"]["workers"] = args.workers
    config = load_config(overrides=overrides)
    host = args.host or config.server.host
    port = args.port or config.server.port
    if config.server.demo and not args.workers:
        return _serve_demo(config, host, port)
    workers = config.server.workers
    processes = workers + (0 if config.server.run_background_jobs else 1)
    check_production(config, processes)
    _configure_process(config)
    from wuye.server import WuyeServer, prepare

    prepare(config)
    WuyeServer(config, f"{host}:{port}", workers).run()
    return 0


def _serve_demo(config: Config, host: str, port: int) -> int:
    from werkzeug.serving import WSGIRequestHandler, run_simple

    from wuye.app import create_app

    class PathOnlyHandler(WSGIRequestHandler):
        """Werkzeug's access log without the query string (signatures live there)."""

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            self.log("info", '"%s %s" %s %s', self.command, self.path.split("?", 1)[0],
                     code, size)

    configure_logging(config.log.level, json_lines=config.log.json)
    app = create_app(config)
    print(f"演示模式：微信模拟器 http://{host}:{port}/simulator", flush=True)
    run_simple(host, port, app, threaded=True, use_reloader=False,
               request_handler=PathOnlyHandler)
    return 0


def _configure_process(config: Config) -> None:
    """Logging as configured, and metrics shared by every process on this machine."""
    from core.metrics import enable_multiprocess

    configure_logging(config.log.level, json_lines=config.log.json)
    enable_multiprocess(config.var_path / "metrics")


def _db_upgrade(_args: argparse.Namespace) -> int:
    config = load_config()
    upgrade(config.database_url)
    print(f"database is up to date: {_safe_url(config.database_url)}")
    return 0


def _safe_url(url: str) -> str:
    """Hide a password in a database URL before printing it."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    creds, host = rest.rsplit("@", 1)
    user = creds.split(":", 1)[0]
    return f"{scheme}://{user}:***@{host}" if ":" in creds else url


def _inspect(args: argparse.Namespace) -> int:
    from wuye.inspect import inspect_resident
    from wuye.services import build_services

    services = build_services(load_config())
    try:
        report = inspect_resident(services, args.openid)
    finally:
        services.close()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=2))
    else:
        print(f"openid: {report['openid']}  handover: {report['handover'] or '-'}")
        for message in report["last_messages"]:
            arrow = "→" if message["direction"] == "in" else "←"
            intent = (message["nlu"] or {}).get("intent", "")
            print(f"{arrow} [{message['type']}] {message['text']} {intent}")
    return 0


def _worker(_args: argparse.Namespace) -> int:
    """The outbox sender, the sweeper and the desk jobs (SLA watch, residents' photos,
    quality queue) as their own process, beside several web workers."""
    from bot.outbox import run_worker
    from desk.jobs import DeskJobs
    from wuye.services import build_services

    config = load_config()
    check_production(config, processes=2)  # the worker always runs beside a web process
    _configure_process(config)
    services = build_services(config)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    try:
        run_worker(services.outbox, stop, jobs=[services.sweeper.tick, services.silence.tick,
                                                DeskJobs(services).tick])
    finally:
        services.close()
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="wuye", description="wuye-bot 物业客服系统")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the web server (webhook, simulator, console)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--demo", action="store_true", help="simulator + fake WeChat API")
    serve.add_argument("--workers", type=int,
                       help="gunicorn worker processes (default: server.workers)")
    serve.set_defaults(func=_serve)
    db = sub.add_parser("db", help="database")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply migrations").set_defaults(func=_db_upgrade)
    inspect = sub.add_parser("inspect", help="show a resident's state")
    inspect.add_argument("openid")
    inspect.add_argument("--json", action="store_true")
    inspect.set_defaults(func=_inspect)
    sub.add_parser("worker", help="run the outbox sender").set_defaults(func=_worker)
    cli_nlu.add_commands(sub)
    cli_tickets.add_commands(sub)
    cli_admin.add_commands(sub)
    cli_knowledge.add_commands(sub)
    cli_community.add_commands(sub)
    cli_desk.add_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    configure_logging()
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        print(f"配置错误 / configuration error: {exc}", file=sys.stderr)
        return 2
