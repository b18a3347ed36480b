"""`wuye unanswered list [--json] [--community CODE]`: the admins' unanswered queue."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from core.config import load_config
from core.db import make_engine, make_session_factory, upgrade


def add_commands(subparsers: Any) -> None:
    """Attach the `unanswered` command group to the `wuye` parser."""
    group = subparsers.add_parser("unanswered",
                                  help="what residents asked the bot could not answer")
    sub = group.add_subparsers(dest="unanswered_command", required=True)
    listing = sub.add_parser("list", help="open groups, most frequent first")
    listing.add_argument("--json", action="store_true")
    listing.add_argument("--community", help="only this community's residents (code)")
    listing.set_defaults(func=_list)


def _list(args: argparse.Namespace) -> int:
    from communities.directory import Communities
    from knowledge_loop.unanswered import UnansweredQueue

    config = load_config()
    upgrade(config.database_url)
    engine = make_engine(config.database_url)
    try:
        sessions = make_session_factory(engine)
        community_id = None
        if args.community:
            found = Communities(sessions).by_code(args.community)
            if found is None:
                print(f"没有编码为 {args.community} 的小区", file=sys.stderr)
                return 1
            community_id = found.id
        groups = UnansweredQueue(sessions, config).groups(community_id)
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps([g.to_json() for g in groups], ensure_ascii=False, indent=2))
        return 0
    for group in groups:
        print(f"{group.count:>4}  {group.text}   例：{' / '.join(group.examples[1:3])}")
    if not groups:
        print("没有未解决的问题")
    return 0
