"""`wuye community`, `wuye faq` and `--community` on the imports and on `wuye user add`."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from communities.directory import Communities
from communities.staff import StaffScopes
from core.config import load_config
from core.db import make_engine, make_session_factory
from handlers.tickets.households import Households
from handlers.tickets.rooms import parse_room
from knowledge_base.overrides import CommunityKnowledge
from wuye.cli import main
from wuye.demo import DATA_DIR


def sessions():  # type: ignore[no-untyped-def]
    return make_session_factory(make_engine(load_config().database_url))


def test_community_add_and_list(cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["community", "add", "lanwan", "--name", "蓝湾雅苑", "--hotline",
                 "0571-86661234", "--hours", "08:30-17:30", "--weekend-hours", "09:00-12:00",
                 "--emergency-phone", "0571-86661119", "--address", "江南大道1888号",
                 "--alias", "蓝湾"]) == 0
    capsys.readouterr()
    assert main(["community", "list", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [c["code"] for c in listed] == ["cuihu", "lanwan"]  # the first from config
    lanwan = listed[1]
    assert (lanwan["name"], lanwan["hotline"], lanwan["weekday_hours"], lanwan["weekend_hours"],
            lanwan["emergency_phone"], lanwan["aliases"]) == (
        "蓝湾雅苑", "0571-86661234", "08:30-17:30", "09:00-12:00", "0571-86661119", ["蓝湾"])
    assert main(["community", "add", "lanwan", "--name", "again"]) == 1
    assert main(["community", "add", "x1", "--name", "X", "--hours", "nine to six"]) == 1
    assert "HH:MM-HH:MM" in capsys.readouterr().err


def test_roster_and_bills_import_into_a_community(
        cli_env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["community", "add", "lanwan", "--name", "蓝湾雅苑"]) == 0
    assert main(["roster", "import", str(DATA_DIR / "lanwan_roster.csv"),
                 "--community", "lanwan"]) == 0
    assert main(["bills", "import", str(DATA_DIR / "lanwan_bills.csv"),
                 "--community", "lanwan"]) == 0
    assert main(["roster", "import", str(DATA_DIR / "lanwan_roster.csv"),
                 "--community", "nowhere"]) == 1
    assert "unknown community" in capsys.readouterr().out
    made = sessions()
    lanwan = Communities(made).require("lanwan")
    room = parse_room("2栋1单元301")
    assert room is not None
    homes = Households(made)
    household = homes.verify(room, "5678")
    homes.bind("o_cli", room, household)
    bound = homes.rooms("o_cli")
    assert [r.community_id for r in bound] == [lanwan.id]
    assert sum(b.amount for b in homes.bills(bound[0]) if not b.paid) == 2704


def test_faq_import_and_export(cli_env: Path, tmp_path: Path,
                               capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["community", "add", "lanwan", "--name", "蓝湾雅苑"]) == 0
    company = tmp_path / "company.csv"
    company.write_text("id,category,question,similar_questions,answer,enabled\n"
                       "fee_standard,物业费,物业费多少钱,一平多少钱,住宅2.8元,1\n",
                       encoding="utf-8")
    assert main(["faq", "import", str(company)]) == 0
    own = tmp_path / "lanwan.csv"
    own.write_text("编号,分类,标准问题,相似问题,答案,启用\nfee_standard,,,,住宅3.2元,1\n",
                   encoding="utf-8")
    assert main(["faq", "import", str(own), "--community", "lanwan"]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text("id,answer,enabled\nok_one,好的,1\n,没有编号,1\nthird,,1\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["faq", "import", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "nothing written" in err and "line 3" in err and "line 4" in err
    made = sessions()
    lanwan = Communities(made).require("lanwan")
    assert CommunityKnowledge(made).resolve("fee_standard", lanwan.id).answer == "住宅3.2元"
    assert CommunityKnowledge(made).resolve("ok_one", None) is None  # nothing written
    out = tmp_path / "out.xlsx"
    assert main(["faq", "export", str(out), "--community", "lanwan"]) == 0
    from openpyxl import load_workbook

    rows = list(load_workbook(out).active.iter_rows(values_only=True))
    assert rows[1][0] == "fee_standard" and rows[1][4] == "住宅3.2元"


def test_user_add_scoped_to_a_community(cli_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert main(["community", "add", "lanwan", "--name", "蓝湾雅苑"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("correct-horse-battery-9\n"))
    assert main(["user", "add", "lanwan1", "--role", "agent", "--community", "lanwan"]) == 0
    made = sessions()
    from admin.users import UserStore

    user = next(u for u in UserStore(made).list() if u.username == "lanwan1")
    assert StaffScopes(made).codes_of(user.id) == ["lanwan"]
