"""`wuye sla check --at`, `wuye callbacks list --json`, `wuye kpi --json` from the shell."""

from __future__ import annotations

import argparse
import json
from datetime import timedelta
from pathlib import Path

import pytest

from core.config import load_config
from core.db import make_engine, make_session_factory, upgrade
from handlers.deps import HandlerDeps
from handlers.tickets.rooms import parse_room
from handlers.tickets.service import NewTicket, TicketService
from tests.desk.test_sla import T0
from wuye.cli_desk import add_commands


def run(*argv: str) -> int:
    parser = argparse.ArgumentParser(prog="wuye")
    add_commands(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return int(args.func(args))


def service() -> TicketService:
    config = load_config()
    upgrade(config.database_url)
    sessions = make_session_factory(make_engine(config.database_url))
    return TicketService(sessions, config, HandlerDeps(config, sessions, None).texts)


def complaint(tickets: TicketService, text: str) -> str:
    return tickets.create(NewTicket(type="complaint", openid="o_cli", text=text, summary=text,
                                    room=parse_room("5栋1单元101")), now=T0).number


def test_sla_check_at_a_time_prints_what_it_did(cli_env: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    number = service().create(NewTicket(type="repair", openid="o_cli", text="电梯困人",
                                        summary="电梯困人"), now=T0).number
    assert run("sla", "check", "--at", "2026-11-18T10:10:00+08:00") == 0
    assert json.loads(capsys.readouterr().out)["breaches"] == []
    assert run("sla", "check", "--at", "2026-11-18T10:20:00") == 0  # local time
    report = json.loads(capsys.readouterr().out)
    [breach] = report["breaches"]
    assert (breach["ticket"], breach["kind"], breach["priority"]) == (number, "response", "P1")
    assert run("sla", "check", "--at", "2026-11-18T10:21:00+08:00") == 0
    assert json.loads(capsys.readouterr().out)["breaches"] == []
    assert run("sla", "check", "--at", "yesterday") == 2


def test_callbacks_list_and_kpi_json(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    tickets = service()
    numbers = [complaint(tickets, f"保安态度很差第{i}次") for i in range(3)]
    for number in numbers:
        for state in ("accepted", "resolved", "closed"):
            tickets.transition(number, state, "staff:cli", now=T0 + timedelta(hours=1))
    assert run("callbacks", "list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert sorted(r["ticket"] for r in rows) == sorted(numbers)
    assert run("kpi", "--json", "--from", "2026-11-01", "--to", "2026-11-30") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["complaint_handling_rate"] == 1.0
    assert data["totals"]["callback_rate_complaint"] == 0.0  # closed, none called back yet
    assert data["totals"]["counts"]["complaints"] == 3
    assert data["totals"]["counts"]["repeat_complaints"] == 2  # same resident, same thing
