"""`wuye community add|list` and `wuye faq import|export`: communities and their knowledge."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.config import load_config
from core.db import make_engine, make_session_factory, upgrade


def add_commands(subparsers: Any) -> None:
    """Attach the `community` and `faq` command groups to the `wuye` parser."""
    community = subparsers.add_parser("community", help="communities (小区) served")
    sub = community.add_subparsers(dest="community_command", required=True)
    add = sub.add_parser("add", help="add a community")
    add.add_argument("code", help="short code used by files and commands, e.g. lanwan")
    add.add_argument("--name", required=True, help="name residents know, e.g. 蓝湾雅苑")
    add.add_argument("--hotline", default="")
    add.add_argument("--emergency-phone", default="")
    add.add_argument("--hours", default="09:00-18:00", help="weekday office hours HH:MM-HH:MM")
    add.add_argument("--weekend-hours", help="weekend and holiday hours (default: --hours)")
    add.add_argument("--holidays", default="", help="YYYY-MM-DD,YYYY-MM-DD")
    add.add_argument("--address", default="")
    add.add_argument("--alias", action="append", default=[], help="another name (repeatable)")
    add.add_argument("--department", action="append", default=[],
                     help="department on duty (repeatable)")
    add.set_defaults(func=_community_add)
    listing = sub.add_parser("list", help="list communities")
    listing.add_argument("--json", action="store_true")
    listing.set_defaults(func=_community_list)

    faq = subparsers.add_parser("faq", help="FAQ import and export (CSV or XLSX)")
    faq_sub = faq.add_subparsers(dest="faq_command", required=True)
    for name, helptext, func in (("import", "import entries; bad rows refuse the file",
                                  _faq_import),
                                 ("export", "export entries", _faq_export)):
        command = faq_sub.add_parser(name, help=helptext)
        command.add_argument("file", type=Path)
        command.add_argument("--community", metavar="CODE",
                             help="that community's own answers (default: company-wide)")
        command.set_defaults(func=func)


def _sessions() -> sessionmaker[Session]:
    config = load_config()
    upgrade(config.database_url)
    sessions = make_session_factory(make_engine(config.database_url))
    from communities.directory import Communities

    Communities(sessions).ensure_first(config.service, config.handoff)
    return sessions


def community_id(sessions: sessionmaker[Session], code: str | None) -> int | None:
    """The id of the community named by --community (None when not given)."""
    from communities.directory import Communities

    return Communities(sessions).require(code).id if code else None


def _community_add(args: argparse.Namespace) -> int:
    from communities.directory import Communities, CommunityError

    try:
        created = Communities(_sessions()).add(
            args.code, args.name, hotline=args.hotline, emergency_phone=args.emergency_phone,
            weekday_hours=args.hours, weekend_hours=args.weekend_hours or args.hours,
            holidays=args.holidays, address=args.address, aliases=args.alias,
            duty_departments=args.department)
    except CommunityError as exc:
        print(f"错误 / refused: {exc}", file=sys.stderr)
        return 1
    print(f"created community {created.code} {created.name} (id {created.id})")
    return 0


def _community_list(args: argparse.Namespace) -> int:
    from communities.directory import Communities

    found = Communities(_sessions()).list()
    if args.json:
        print(json.dumps([c.to_dict() for c in found], ensure_ascii=False, indent=2))
        return 0
    for c in found:
        print(f"{c.code}  {c.name}  热线 {c.hotline or '-'}  紧急 {c.emergency_phone or '-'}"
              f"  工作日 {c.weekday_hours}  周末 {c.weekend_hours}")
    return 0


def _faq_import(args: argparse.Namespace) -> int:
    from communities.directory import CommunityError
    from knowledge_base.transfer import FaqImportError, import_faq

    sessions = _sessions()
    try:
        result = import_faq(sessions, args.file, community_id(sessions, args.community))
    except CommunityError as exc:
        print(f"错误 / refused: {exc}", file=sys.stderr)
        return 1
    except FaqImportError as exc:
        print("导入失败，未写入任何内容 / import refused, nothing written:", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"错误 / cannot read: {exc}", file=sys.stderr)
        return 1
    print(json.dumps(result.to_dict(), ensure_ascii=False))
    return 0


def _faq_export(args: argparse.Namespace) -> int:
    from communities.directory import CommunityError
    from knowledge_base.transfer import FaqImportError, export_faq

    sessions = _sessions()
    try:
        count = export_faq(sessions, args.file, community_id(sessions, args.community))
    except (CommunityError, FaqImportError, OSError) as exc:
        print(f"错误 / refused: {exc}", file=sys.stderr)
        return 1
    print(f"exported {count} entries to {args.file}")
    return 0
