"""`wuye sla check`, `wuye callbacks list`, `wuye kpi`: the service desk from the shell."""

from __future__ import annotations

import argparse
import json
from datetime import date, datetime, timedelta
from typing import Any

from core.config import load_config
from core.db import utcnow


def add_commands(subparsers: Any) -> None:
    sla = subparsers.add_parser("sla", help="SLA watch")
    sla_sub = sla.add_subparsers(dest="sla_command", required=True)
    check = sla_sub.add_parser("check", help="run one SLA pass and print what it did (JSON)")
    check.add_argument("--at", help="ISO time to run as if it were now (e.g. 2026-11-18T10:30)")
    check.set_defaults(func=_sla_check)
    calls = subparsers.add_parser("callbacks", help="callbacks (回访)")
    calls_sub = calls.add_subparsers(dest="callbacks_command", required=True)
    listing = calls_sub.add_parser("list", help="the open callbacks, most overdue first")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_callbacks_list)
    kpi = subparsers.add_parser("kpi", help="service KPIs over a period")
    kpi.add_argument("--json", action="store_true")
    kpi.add_argument("--from", dest="start", help="first day, YYYY-MM-DD (default: 30 days ago)")
    kpi.add_argument("--to", dest="end", help="last day, YYYY-MM-DD (default: today)")
    kpi.add_argument("--grain", choices=("day", "week", "month"), default="month")
    kpi.set_defaults(func=_kpi)


def _services() -> Any:
    from wuye.services import build_services

    return build_services(load_config())


def _moment(text: str | None) -> datetime:
    if not text:
        return utcnow()
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        from zoneinfo import ZoneInfo

        moment = moment.replace(tzinfo=ZoneInfo(load_config().service.timezone))
    return moment


def _sla_check(args: argparse.Namespace) -> int:
    from desk.sla import watch_for

    try:
        at = _moment(args.at)
    except ValueError:
        print(json.dumps({"error": f"--at: not an ISO time: {args.at}"}, ensure_ascii=False))
        return 2
    services = _services()
    try:
        result = watch_for(services).run(at)
    finally:
        services.close()
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _callbacks_list(args: argparse.Namespace) -> int:
    from desk.callbacks import open_list

    services = _services()
    try:
        rows = open_list(services.sessions)
    finally:
        services.close()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    for row in rows:
        print(f"#{row['id']}  到期 {row['due_at'][:16]}  {row['ticket'] or '-'}  {row['reason']}")
    if not rows:
        print("没有待回访 / no open callbacks")
    return 0


def _kpi(args: argparse.Namespace) -> int:
    from admin.users import UserStore
    from communities.directory import Communities
    from desk.kpis import KPI_NAMES, report

    try:
        end = date.fromisoformat(args.end) if args.end else utcnow().date()
        start = date.fromisoformat(args.start) if args.start else end - timedelta(days=29)
    except ValueError:
        print("错误 / --from and --to take YYYY-MM-DD")
        return 2
    services = _services()
    try:
        communities = {c.id: c.name for c in Communities(services.sessions).list()}
        data = report(services.sessions, services.config, start, end, args.grain,
                      UserStore(services.sessions).names(), communities)
    finally:
        services.close()
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2, default=str))
        return 0
    for key, (label, target) in KPI_NAMES.items():
        print(f"{label}: {data['totals'][key]}  (目标 {target})")
    return 0
