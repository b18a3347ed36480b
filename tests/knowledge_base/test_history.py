"""FAQ history: every write kept as a version, diffs between them, rollback, validity dates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory, utcnow
from knowledge_base.history import diff, pieces
from knowledge_base.repository import FaqRepository


@pytest.fixture()
def repo(db_url: str) -> Iterator[FaqRepository]:
    engine = make_engine(db_url)
    sessions: sessionmaker[Session] = make_session_factory(engine)
    yield FaqRepository(sessions)
    engine.dispose()


def test_every_write_is_a_version_and_rollback_restores_an_old_one(repo: FaqRepository) -> None:
    repo.save(id="gym", question="健身房几点开", answer="您好，健身房6点开。",
              similar_questions=["健身房开放时间"], updated_by="wang")
    repo.save(id="gym", question="健身房几点开", answer="您好，健身房7点开。",
              similar_questions=["健身房开放时间", "几点能去健身"], updated_by="li")
    repo.set_enabled("gym", False, updated_by="li")
    history = repo.history("gym")
    assert [(r.version, r.action, r.changed_by) for r in history] == [
        (3, "disable", "li"), (2, "save", "li"), (1, "save", "wang")]
    changes = {c.field: c for c in diff(history[2].snapshot, history[1].snapshot)}
    assert set(changes) == {"answer", "similar_questions"}
    edit = changes["answer"].pieces
    assert ("delete", "6") in edit and ("insert", "7") in edit

    restored = repo.rollback("gym", 1, updated_by="boss")
    assert restored is not None and restored.version == 4
    assert (restored.answer, restored.similar_questions, restored.enabled) == (
        "您好，健身房6点开。", ["健身房开放时间"], True)
    assert repo.history("gym")[0].action == "rollback"
    assert repo.rollback("gym", 99) is None


def test_an_entry_outside_its_dates_is_not_served(repo: FaqRepository) -> None:
    now = utcnow()
    day = timedelta(days=1)
    repo.save(id="later", question="春节值班安排", answer="您好。", valid_from=now + day)
    repo.save(id="over", question="国庆值班安排", answer="您好。", valid_until=now - day)
    repo.save(id="now", question="日常值班安排", answer="您好。", valid_from=now - day,
              valid_until=now + day)
    assert [f.id for f in repo.list(enabled_only=True)] == ["now"]
    assert {f.id for f in repo.list()} == {"later", "over", "now"}
    before = repo.stamp()
    repo.save(id="later", question="春节值班安排", answer="您好。")  # dates removed
    assert repo.stamp() != before and "later" in {f.id for f in repo.list(enabled_only=True)}


def test_search_filters_by_text_category_and_state(repo: FaqRepository) -> None:
    repo.save(id="a", question="门禁卡怎么办", answer="您好，带身份证。", category="access")
    repo.save(id="b", question="停车费多少", answer="您好，每月300元。", category="parking",
              similar_questions=["车位月租"])
    repo.set_enabled("b", False)
    assert [f.id for f in repo.search("月租")] == ["b"]
    assert [f.id for f in repo.search(category="access")] == ["a"]
    assert [f.id for f in repo.search(enabled=False)] == ["b"]
    assert repo.set_many_enabled(["a", "b", "zz"], True, "boss") == 1


def test_character_diff_of_chinese_text() -> None:
    assert pieces("物业费每月2元", "物业费每月2.5元") == [
        ("equal", "物业费每月2"), ("insert", ".5"), ("equal", "元")]
