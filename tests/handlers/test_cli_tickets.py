"""`wuye tickets|roster|bills` for staff: imports, listing and updates from the shell."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from core.config import load_config
from core.db import make_engine, make_session_factory
from handlers.deps import HandlerDeps
from handlers.tickets.households import Households
from handlers.tickets.rooms import parse_room
from handlers.tickets.rules import DATA_DIR
from handlers.tickets.service import NewTicket, TicketService
from wuye.cli_tickets import add_commands


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="wuye")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def service() -> TicketService:
    config = load_config()
    sessions = make_session_factory(make_engine(config.database_url))
    return TicketService(sessions, config, HandlerDeps(config, sessions, None).texts)


def test_roster_and_bills_import(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("roster", "import", str(DATA_DIR / "demo_roster.csv")) == 0
    assert run("bills", "import", str(DATA_DIR / "demo_bills.csv")) == 0
    assert "imported 5 roster lines" in capsys.readouterr().out
    homes = Households(make_session_factory(make_engine(f"sqlite:///{cli_env}")))
    room = parse_room("3-2-502")
    assert room is not None and homes.verify(room, "8000") is not None
    assert sum(b.amount for b in homes.bills(room) if not b.paid) == 1410


def test_a_bad_csv_line_is_named(cli_env: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("room,name,phone\n3栋2单元502,张伟,13800138000\n大门口,李四,139\n",
                   encoding="utf-8")
    assert run("roster", "import", str(bad)) == 1
    assert "line 3" in capsys.readouterr().out


def test_list_and_update(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run("roster", "import", str(DATA_DIR / "demo_roster.csv"))
    number = service().create(NewTicket(type="repair", openid="o_cli", text="家里停水了",
                                        summary="家里停水了")).number
    capsys.readouterr()
    assert run("tickets", "list", "--json") == 0
    [listed] = json.loads(capsys.readouterr().out)
    assert (listed["number"], listed["priority"], listed["state"]) == (number, "P2", "dispatched")
    assert run("tickets", "update", number, "--state", "accepted", "--note", "李师傅") == 0
    assert "已受理" in capsys.readouterr().out
    assert run("tickets", "update", number, "--state", "closed") == 1
    assert "不能改为" in capsys.readouterr().out
    assert run("tickets", "show", number) == 0
    shown: dict[str, Any] = json.loads(capsys.readouterr().out)
    assert shown["events"][-1]["note"] == "李师傅"
    assert run("tickets", "list") == 0
    assert number in capsys.readouterr().out
