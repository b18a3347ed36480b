"""`wuye user add NAME --role agent|admin`: console accounts from the command line.

The password is read from standard input (never an argument, which would land
in the shell history and the process list).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from core.config import load_config
from core.db import make_engine, make_session_factory


def add_commands(subparsers: Any) -> None:
    """Attach the `user` command group to the `wuye` parser."""
    user = subparsers.add_parser("user", help="console accounts (agents and admins)")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create an account; password from stdin")
    add.add_argument("name", help="login name (lowercase letters, digits, . _ -)")
    add.add_argument("--role", choices=("agent", "admin", "staff"), default="agent")
    add.add_argument("--department", default="", help="staff: their department, e.g. 工程部")
    add.add_argument("--head", action="store_true", help="staff: the department's head")
    add.add_argument("--display-name", default="", help="name shown in the console")
    add.add_argument("--community", action="append", default=[], metavar="CODE",
                     help="serve only this community (repeatable; none: the whole company)")
    add.set_defaults(func=_user_add)


def _read_password() -> str:
    if sys.stdin.isatty():
        import getpass

        return getpass.getpass("密码 / password: ")
    return sys.stdin.readline().rstrip("\r\n")


def _user_add(args: argparse.Namespace) -> int:
    from admin.users import UserError, UserStore
    from communities.directory import Communities, CommunityError
    from communities.staff import StaffScopes

    config = load_config()
    engine = make_engine(config.database_url)
    try:
        sessions = make_session_factory(engine)
        scope = [Communities(sessions).require(code).id for code in args.community]
        store = UserStore(sessions)
        user = store.create(args.name, _read_password(), args.role, args.display_name)
        StaffScopes(sessions).set(user.id, scope)
        if args.department:
            from desk.staff import Staff

            Staff(sessions).assign(user.id, args.department, args.head)
    except (UserError, CommunityError, ValueError) as exc:
        print(f"无法创建用户：{exc}", file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    print(f"created {user.role} {user.username} (id {user.id})")
    return 0
