"""FAQ import/export: CSV and XLSX, a preview with row errors, all rows written or none."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory
from knowledge_base import faq_io
from knowledge_base.repository import FaqRepository

HEADER = ["编号", "分类", "标准问题", "相似问题", "答案", "启用"]


@pytest.fixture()
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def csv_bytes(rows: list[list[str]], encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_bad_rows_are_reported_and_nothing_is_written(sessions: sessionmaker[Session]) -> None:
    repo = FaqRepository(sessions)
    repo.save(id="wifi", question="有wifi吗", answer="您好，大堂有。")
    data = csv_bytes([HEADER,
                      ["laundry", "设施", "洗衣房在哪", "洗衣房位置\n哪里洗衣服",
                       "您好，在3栋负一层。", "1"],
                      ["Bad Id!", "设施", "游乐场在哪", "", "您好，在中庭。", "是"],
                      ["", "设施", "", "", "", "1"],
                      ["laundry", "设施", "洗衣房几点开", "", "您好，8点。", "maybe"],
                      ["wifi", "设施", "有wifi吗", "", "您好，大堂和会所都有。", "1"]])
    preview = faq_io.import_file(sessions, "faq.csv", data)
    assert not preview.ok
    errors = {row.line: row.errors for row in preview.errors}
    assert set(errors) == {3, 4, 5}
    assert any("编号" in e for e in errors[3])
    assert "标准问题不能为空" in errors[4] and "答案不能为空" in errors[4]
    assert any("第 2 行重复" in e for e in errors[5]) and any("启用" in e for e in errors[5])
    with pytest.raises(faq_io.ImportFormatError):
        faq_io.apply(preview, repo, "boss")
    assert repo.get("laundry") is None
    assert repo.get("wifi").answer == "您好，大堂有。"  # type: ignore[union-attr]


def test_a_clean_xlsx_import_creates_updates_and_skips(sessions: sessionmaker[Session]) -> None:
    repo = FaqRepository(sessions)
    repo.save(id="wifi", question="有wifi吗", answer="您好，大堂有。", category="设施")
    repo.save(id="same", question="不变的问题", answer="您好，不变。", category="设施")
    data = xlsx_bytes([HEADER + ["失效时间"],
                       ["laundry", "设施", "洗衣房在哪", "洗衣房位置\n哪里洗衣服",
                        "您好，在3栋负一层。", 1, "2030-01-01"],
                       ["wifi", "设施", "有wifi吗", "", "您好，大堂和会所都有。", "是", None],
                       ["same", "设施", "不变的问题", "", "您好，不变。", "1", None]])
    preview = faq_io.import_file(sessions, "faq.xlsx", data)
    assert preview.ok and preview.counts() == {"create": 1, "update": 1, "override": 0,
                                                "unchanged": 1, "error": 0}
    assert faq_io.apply(preview, repo, "boss") == 2
    laundry = repo.get("laundry")
    assert laundry is not None and laundry.similar_questions == ["洗衣房位置", "哪里洗衣服"]
    assert laundry.valid_until is not None and laundry.valid_until.year == 2030
    assert repo.history("laundry")[0].action == "import"
    assert repo.get("same").version == 1  # type: ignore[union-attr]


def test_export_then_import_round_trips(sessions: sessionmaker[Session]) -> None:
    repo = FaqRepository(sessions)
    repo.save(id="gym", question="健身房几点开", answer="您好，6点。",
              similar_questions=["健身时间"])
    repo.save(id="pool", question="泳池开吗", answer="您好，夏季开放。", enabled=False)
    for kind in ("csv", "xlsx"):
        data = faq_io.export_file(sessions, kind)
        if kind == "xlsx":
            sheet = load_workbook(io.BytesIO(data)).active
            assert [c.value for c in sheet[1]][:6] == HEADER
        preview = faq_io.import_file(sessions, f"faq.{kind}", data)
        assert preview.ok and preview.counts()["unchanged"] == 2, kind


def test_gbk_csv_from_excel_and_unreadable_files(sessions: sessionmaker[Session]) -> None:
    data = csv_bytes([HEADER, ["gym", "设施", "健身房几点开", "", "您好，6点。", "1"]], "gbk")
    assert faq_io.import_file(sessions, "faq.csv", data).ok
    with pytest.raises(faq_io.ImportFormatError, match="缺少列"):
        faq_io.import_file(sessions, "faq.csv", csv_bytes([["编号", "分类"], ["a", "b"]]))
    with pytest.raises(faq_io.ImportFormatError, match="xlsx"):
        faq_io.import_file(sessions, "faq.xlsx", b"not a zip")
    with pytest.raises(faq_io.ImportFormatError):
        faq_io.import_file(sessions, "faq.txt", b"x")


def test_a_company_topic_imported_for_a_community_becomes_its_override(
    sessions: sessionmaker[Session]
) -> None:
    from communities.directory import Communities
    from knowledge_base.overrides import CommunityKnowledge

    repo = FaqRepository(sessions)
    repo.save(id="fee", question="物业费多少", answer="您好，每平米2元。")
    lanwan = Communities(sessions).add("lanwan", "蓝湾雅苑").id
    data = csv_bytes([HEADER, ["fee", "物业费", "物业费多少", "", "您好，每平米3元。", "1"]])
    preview = faq_io.import_file(sessions, "faq.csv", data, lanwan)
    assert preview.ok and preview.counts()["override"] == 1
    assert faq_io.apply(preview, repo, "boss", sessions) == 1
    assert repo.get("fee").answer == "您好，每平米2元。"  # type: ignore[union-attr]
    assert CommunityKnowledge(sessions).resolve("fee", lanwan).answer == "您好，每平米3元。"
