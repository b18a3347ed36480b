"""Company FAQ entries, community overrides and community-only topics; import and export."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from communities.directory import Communities, CommunityError, CommunityInfo
from core.db import make_engine, make_session_factory
from knowledge_base.overrides import CommunityKnowledge, OverrideError
from knowledge_base.repository import FaqRepository
from knowledge_base.transfer import FaqImportError, export_faq, import_faq

HEADER = ["id", "category", "question", "similar_questions", "answer", "enabled"]


@pytest.fixture()
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture()
def places(sessions: sessionmaker[Session]) -> tuple[CommunityInfo, CommunityInfo]:
    directory = Communities(sessions)
    first = directory.add("cuihu", "翠湖花园", aliases=["翠湖"])
    second = directory.add("lanwan", "蓝湾雅苑", hotline="0571-86661234", aliases=["蓝湾"],
                           weekday_hours="08:30-17:30", weekend_hours="09:00-12:00")
    faqs = FaqRepository(sessions)
    faqs.save(id="fee_standard", question="物业费多少钱", answer="住宅2.8元/平方米/月")
    faqs.save(id="overtime_ac", question="加班空调", answer="每小时150元",
              community_id=first.id)
    return first, second


def test_override_wins_in_its_community_only(
        sessions: sessionmaker[Session], places: tuple[CommunityInfo, CommunityInfo]) -> None:
    cuihu, lanwan = places
    knowledge = CommunityKnowledge(sessions)
    knowledge.save_override("fee_standard", lanwan.id, "住宅3.2元/平方米/月")
    assert knowledge.resolve("fee_standard", lanwan.id).answer == "住宅3.2元/平方米/月"
    assert knowledge.resolve("fee_standard", cuihu.id).answer == "住宅2.8元/平方米/月"
    assert knowledge.resolve("fee_standard", None).answer == "住宅2.8元/平方米/月"
    knowledge.save_override("fee_standard", lanwan.id, "住宅3.2元/平方米/月", enabled=False)
    assert knowledge.resolve("fee_standard", lanwan.id).answer == "住宅2.8元/平方米/月"
    FaqRepository(sessions).set_enabled("fee_standard", False)
    assert knowledge.resolve("fee_standard", cuihu.id) is None
    with pytest.raises(OverrideError):
        knowledge.save_override("no_such_topic", lanwan.id, "x")


def test_a_communitys_own_topic_is_not_answered_elsewhere(
        sessions: sessionmaker[Session], places: tuple[CommunityInfo, CommunityInfo]) -> None:
    cuihu, lanwan = places
    knowledge = CommunityKnowledge(sessions)
    assert knowledge.resolve("overtime_ac", cuihu.id).answer == "每小时150元"
    assert knowledge.resolve("overtime_ac", lanwan.id) is None
    assert knowledge.belongs_elsewhere("overtime_ac", lanwan.id)
    # the NLU still sees one entry per topic, overrides never
    knowledge.save_override("fee_standard", lanwan.id, "住宅3.2元/平方米/月")
    assert [f.id for f in FaqRepository(sessions).list(enabled_only=True)] == [
        "fee_standard", "overtime_ac"]


def test_directory_names_mentions_and_bad_values(
        sessions: sessionmaker[Session], places: tuple[CommunityInfo, CommunityInfo]) -> None:
    directory = Communities(sessions)
    names = CommunityKnowledge(sessions).community_names()
    assert names == ["翠湖", "翠湖花园", "蓝湾", "蓝湾雅苑"]
    assert directory.mentioned("我住蓝湾3栋").code == "lanwan"
    assert directory.mentioned("翠湖和蓝湾哪个物业费高") is None  # two: not a choice
    with pytest.raises(CommunityError):
        directory.add("lanwan", "重复")
    with pytest.raises(CommunityError):
        directory.add("new", "新小区", weekday_hours="9点到6点")
    with pytest.raises(CommunityError):
        directory.add("Bad Code", "新小区")


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([HEADER, *rows])
    return path


def test_import_with_bad_rows_is_refused_whole_and_every_row_reported(
        sessions: sessionmaker[Session], places: tuple[CommunityInfo, CommunityInfo],
        tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bad.csv", [
        ["fee_standard", "物业费", "物业费多少钱", "", "住宅3.0元", "1"],
        ["new topic!", "", "问题", "", "答案", "1"],
        ["pool_hours", "配套", "", "", "6:00-22:00", "1"],
        ["pets", "宠物", "能养狗吗", "", "", "maybe"],
        ["fee_standard", "物业费", "重复", "", "x", "1"],
    ])
    with pytest.raises(FaqImportError) as raised:
        import_faq(sessions, path)
    reported = [error.split(":")[0] for error in raised.value.errors]
    assert reported == ["line 3", "line 4", "line 5", "line 6"]
    assert "already on line 2" in raised.value.errors[-1]
    assert FaqRepository(sessions).get("fee_standard").answer == "住宅2.8元/平方米/月"
    assert FaqRepository(sessions).get("pets") is None


def test_community_import_overrides_company_topics_and_adds_its_own(
        sessions: sessionmaker[Session], places: tuple[CommunityInfo, CommunityInfo],
        tmp_path: Path) -> None:
    cuihu, lanwan = places
    path = write_csv(tmp_path / "lanwan.csv", [
        ["fee_standard", "物业费", "", "", "住宅3.2元/平方米/月", "1"],
        ["pool_hours", "配套", "泳池几点开", "游泳池开放时间\n泳池几月开", "6月至9月开放", "是"],
    ])
    result = import_faq(sessions, path, lanwan.id)
    assert result.overridden == ["fee_standard"] and result.created == ["pool_hours"]
    knowledge = CommunityKnowledge(sessions)
    assert knowledge.resolve("fee_standard", lanwan.id).answer == "住宅3.2元/平方米/月"
    assert knowledge.resolve("pool_hours", lanwan.id).similar_questions == [
        "游泳池开放时间", "泳池几月开"]
    assert knowledge.resolve("pool_hours", cuihu.id) is None
    refused = write_csv(tmp_path / "steal.csv", [["overtime_ac", "", "", "", "x", "1"]])
    with pytest.raises(FaqImportError, match="another community"):
        import_faq(sessions, refused, lanwan.id)


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_then_import_round_trips(
        sessions: sessionmaker[Session], places: tuple[CommunityInfo, CommunityInfo],
        tmp_path: Path, suffix: str) -> None:
    _, lanwan = places
    CommunityKnowledge(sessions).save_override("fee_standard", lanwan.id, "住宅3.2元")
    company, own = tmp_path / f"company{suffix}", tmp_path / f"lanwan{suffix}"
    assert export_faq(sessions, company) == 1  # company entries only
    assert export_faq(sessions, own, lanwan.id) == 1  # the override
    FaqRepository(sessions).save(id="fee_standard", question="改过", answer="改过")
    result = import_faq(sessions, company)
    assert result.updated == ["fee_standard"]
    assert FaqRepository(sessions).get("fee_standard").answer == "住宅2.8元/平方米/月"
    assert import_faq(sessions, own, lanwan.id).overridden == ["fee_standard"]
