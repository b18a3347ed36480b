"""Staff commands until the console exists: tickets, roster and bills imports, action server."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.config import Config, load_config
from core.db import make_engine, make_session_factory, upgrade


def add_commands(subparsers: Any) -> None:
    """Register `tickets`, `roster`, `bills` and `actions` on the `wuye` parser."""
    tickets = subparsers.add_parser("tickets", help="list and update tickets")
    sub = tickets.add_subparsers(dest="tickets_command", required=True)
    listing = sub.add_parser("list", help="list tickets, newest first")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--state", action="append", help="only these states (repeatable)")
    listing.add_argument("--openid")
    listing.set_defaults(func=_tickets_list)
    update = sub.add_parser("update", help="move a ticket (state), transfer, pause or urge it")
    update.add_argument("number")
    action = update.add_mutually_exclusive_group(required=True)
    action.add_argument("--state")
    action.add_argument("--transfer", metavar="DEPARTMENT")
    action.add_argument("--pause", action="store_true")
    update.add_argument("--note", default="", help="internal note (not sent to the resident)")
    update.add_argument("--tell", default="", help="text the resident is told with the notice")
    update.add_argument("--actor", default="staff:cli")
    update.set_defaults(func=_tickets_update)
    show = sub.add_parser("show", help="a ticket and its history")
    show.add_argument("number")
    show.set_defaults(func=_tickets_show)
    for name, helptext, func in (("roster", "import the resident roster", _roster_import),
                                 ("bills", "import household bills", _bills_import)):
        parser = subparsers.add_parser(name, help=helptext)
        parser_sub = parser.add_subparsers(dest=f"{name}_command", required=True)
        importer = parser_sub.add_parser("import", help=f"{helptext} from a CSV file")
        importer.add_argument("file", type=Path)
        importer.add_argument("--community", metavar="CODE",
                              help="the community the lines belong to (default: the first)")
        importer.set_defaults(func=func)
    actions = subparsers.add_parser("actions", help="run the rasa-sdk action server")
    actions.add_argument("--host", default="127.0.0.1")
    actions.add_argument("--port", type=int, default=5055)
    actions.set_defaults(func=_actions)


def _sessions(config: Config) -> sessionmaker[Session]:
    upgrade(config.database_url)
    return make_session_factory(make_engine(config.database_url))


def _service(config: Config) -> Any:
    from handlers.deps import HandlerDeps
    from handlers.tickets.service import TicketService

    deps = HandlerDeps(config=config, sessions=_sessions(config), faqs=None)
    return TicketService(deps.sessions, config, deps.texts)


def _tickets_list(args: argparse.Namespace) -> int:
    from handlers.tickets.views import local_time

    config = load_config()
    service = _service(config)
    views = service.list_tickets(args.openid, args.state)
    if args.json:
        print(json.dumps([v.to_dict() for v in views], ensure_ascii=False, indent=2))
        return 0
    for v in views:
        print(f"{v.number}  {service.life.type_name(v.type)}  {service.life.state_name(v.state)}"
              f"  {v.department}  {v.priority}  {v.room or '-'}"
              f"  截止 {local_time(v.deadline, config.service.timezone)}  {v.summary[:30]}")
    if not views:
        print("没有工单 / no tickets")
    return 0


def _tickets_update(args: argparse.Namespace) -> int:
    """Staff changes notify the resident, so this goes through the full services."""
    from handlers.tickets.rules import TransitionError
    from handlers.tickets.service import TicketNotFoundError, TicketService
    from wuye.services import build_services

    services = build_services(load_config())
    try:
        deps = services.deps
        service = TicketService(deps.sessions, deps.config, deps.texts, deps.notifier)
        if args.state:
            view = service.transition(args.number, args.state, args.actor, args.note,
                                      tell=args.tell)
        elif args.transfer:
            view = service.transfer(args.number, args.transfer, args.actor, args.note)
        else:
            view = service.pause(args.number, args.actor, args.note)
    except (TransitionError, TicketNotFoundError) as exc:
        print(f"错误 / refused: {exc}")
        return 1
    finally:
        services.close()
    print(f"{view.number}: {service.life.state_name(view.state)} ({view.state}), {view.department}")
    return 0


def _tickets_show(args: argparse.Namespace) -> int:
    from handlers.tickets.service import TicketNotFoundError

    service = _service(load_config())
    try:
        view, events = service.get(args.number), service.events(args.number)
    except TicketNotFoundError as exc:
        print(f"错误 / not found: {exc}")
        return 1
    print(json.dumps({"ticket": view.to_dict(), "events": events}, ensure_ascii=False, indent=2))
    return 0


def _import(kind: str, args: argparse.Namespace) -> int:
    """One CSV import for the roster or the bills; a bad line is named in the error."""
    from communities.directory import CommunityError
    from handlers.tickets.households import CsvImportError, import_bills, import_roster
    from wuye.cli_community import community_id

    importer = import_roster if kind == "roster" else import_bills
    try:
        sessions = _sessions(load_config())
        count = importer(sessions, args.file, community_id(sessions, args.community))
    except (CsvImportError, CommunityError, OSError) as exc:
        print(f"错误 / import failed: {exc}")
        return 1
    print(f"imported {count} {kind} lines")
    return 0


def _roster_import(args: argparse.Namespace) -> int:
    return _import("roster", args)


def _bills_import(args: argparse.Namespace) -> int:
    return _import("bill", args)


def _actions(args: argparse.Namespace) -> int:
    from handlers.action_server import serve

    config = load_config()
    upgrade(config.database_url)
    serve(config, args.host, args.port)
    return 0
