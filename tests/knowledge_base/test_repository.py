"""The FAQ repository on SQLite and PostgreSQL, and the demo knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory
from knowledge_base.demo import demo_entries, load_demo_if_empty
from knowledge_base.repository import FaqRepository

SPEC = Path(__file__).resolve().parents[2] / ".." / "shared" / "spec" / "faq_topics.yaml"


@pytest.fixture()
def sessions(db_url: str) -> sessionmaker[Session]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def test_save_creates_then_updates_with_a_new_version(sessions: sessionmaker[Session]) -> None:
    repo = FaqRepository(sessions)
    created = repo.save(id="wifi", question="小区有wifi吗", answer="您好，有。",
                        similar_questions=["能上网吗", " "], keywords=["wifi"], updated_by="admin")
    assert (created.version, created.similar_questions, created.updated_by) == (
        1, ["能上网吗"], "admin")
    assert created.updated_at is not None and created.updated_at.tzinfo is not None
    updated = repo.save(id="wifi", question="小区有没有wifi", answer="您好，大堂有。",
                        updated_by="lead")
    assert updated.version == 2
    fetched = repo.get("wifi")
    assert fetched is not None and fetched.question == "小区有没有wifi"
    assert repo.get("missing") is None


def test_disabled_entries_are_listed_only_on_request(sessions: sessionmaker[Session]) -> None:
    repo = FaqRepository(sessions)
    repo.save(id="a", question="问题一", answer="您好")
    repo.save(id="b", question="问题二", answer="您好")
    disabled = repo.set_enabled("b", False, updated_by="admin")
    assert disabled is not None and disabled.version == 2 and not disabled.enabled
    assert [e.id for e in repo.list()] == ["a", "b"]
    assert [e.id for e in repo.list(enabled_only=True)] == ["a"]
    assert repo.set_enabled("zzz", True) is None


def test_stamp_changes_on_every_write(sessions: sessionmaker[Session]) -> None:
    repo = FaqRepository(sessions)
    before = repo.stamp()
    repo.save(id="a", question="问题", answer="您好")
    after = repo.stamp()
    repo.set_enabled("a", False)
    assert len({before, after, repo.stamp()}) == 3


def test_demo_is_loaded_once(sessions: sessionmaker[Session]) -> None:
    assert load_demo_if_empty(sessions) == len(demo_entries())
    assert load_demo_if_empty(sessions) == 0
    assert len(FaqRepository(sessions).list()) == len(demo_entries())


def test_demo_covers_every_topic_with_every_fact() -> None:
    if not SPEC.is_file():
        pytest.skip(f"spec not found at {SPEC}")
    topics = yaml.safe_load(SPEC.read_text(encoding="utf-8"))["faq"]
    entries = {e["id"]: e for e in demo_entries()}
    assert set(entries) == {t["id"] for t in topics}
    for topic in topics:
        answer = entries[topic["id"]]["answer"]
        missing = [fact for fact in topic["facts"] if fact not in answer]
        assert not missing, (topic["id"], missing)


@pytest.mark.parametrize("entry", demo_entries(), ids=lambda e: e["id"])
def test_demo_answers_use_the_service_language(entry: dict[str, object]) -> None:
    answer = str(entry["answer"])
    assert answer.startswith("您好")
    assert answer.endswith("请问还有什么可以帮您？")
    assert " " not in answer.replace("1. ", "")
    assert len(entry["similar_questions"]) >= 5  # type: ignore[arg-type]
