"""The served understander: demo KB on first start, FAQ edits at once, newer models picked up."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory
from knowledge_base.referrals import referral_entries
from knowledge_base.repository import FaqRepository
from nlu.live import LiveUnderstander
from nlu.model import load, newest_artifact
from tests.conftest import make_config
from wuye.understanding import build_understander


@pytest.fixture()
def sessions(db_url: str) -> sessionmaker[Session]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture()
def understander(
    tmp_path: Path, db_url: str, sessions: sessionmaker[Session], trained_model_dir: Path
) -> LiveUnderstander:
    config = make_config(tmp_path, database={"url": db_url},
                         nlu={"model_dir": str(trained_model_dir)})
    return build_understander(config, sessions)


def test_first_start_loads_the_demo_and_answers(
    understander: LiveUnderstander, sessions: sessionmaker[Session]
) -> None:
    entries = FaqRepository(sessions).list()
    assert len([e for e in entries if e.category != "referral"]) == 40
    assert {e.id for e in entries if e.category == "referral"} == {
        e["id"] for e in referral_entries()}
    decision = understander.understand("物业费多少钱一平")
    assert (decision.intent, decision.faq_id) == ("faq", "fee_standard")
    assert decision.faq_score >= 0.3 and len(decision.candidates) == 3


def test_a_new_entry_is_answerable_at_once(
    understander: LiveUnderstander, sessions: sessionmaker[Session]
) -> None:
    FaqRepository(sessions).save(
        id="wifi_lobby", category="配套", question="小区大堂有没有免费wifi",
        similar_questions=["大堂能连网吗", "公共区域wifi密码是多少"], keywords=["wifi"],
        answer="您好，大堂提供免费WiFi。请问还有什么可以帮您？", updated_by="admin")
    decision = understander.understand("大堂有免费wifi吗")
    assert decision.faq_id == "wifi_lobby"


def test_a_disabled_entry_is_no_longer_answered(
    understander: LiveUnderstander, sessions: sessionmaker[Session]
) -> None:
    assert understander.understand("门禁卡丢了怎么办").faq_id == "access_card_lost"
    FaqRepository(sessions).set_enabled("access_card_lost", False, updated_by="admin")
    decision = understander.understand("门禁卡丢了怎么办")
    assert decision.faq_id != "access_card_lost"
    assert "access_card_lost" not in [c.faq_id for c in decision.candidates]


def test_an_edit_made_elsewhere_is_seen_after_the_check_interval(
    tmp_path: Path, db_url: str, sessions: sessionmaker[Session], trained_model_dir: Path
) -> None:
    config = make_config(tmp_path, database={"url": db_url},
                         nlu={"model_dir": str(trained_model_dir), "kb_check_seconds": 0.0})
    understander = build_understander(config, sessions)
    other_process = make_engine(db_url)
    try:
        FaqRepository(make_session_factory(other_process)).save(
            id="sauna", question="会所有桑拿吗", similar_questions=["能蒸桑拿吗"],
            answer="您好，会所没有桑拿。请问还有什么可以帮您？")
    finally:
        other_process.dispose()
    assert understander.refresh_kb() in (True, False)  # may already have been picked up
    assert understander.understand("会所能蒸桑拿吗").faq_id == "sauna"


def test_a_newer_artifact_is_picked_up_without_restart(
    tmp_path: Path, sqlite_url: str, trained_model_dir: Path
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    current = newest_artifact(trained_model_dir)
    assert current is not None
    shutil.copy(current, models / current.name)
    engine = make_engine(sqlite_url)
    config = make_config(tmp_path, database={"url": sqlite_url}, nlu={"model_dir": str(models)})
    understander = build_understander(config, make_session_factory(engine))
    assert understander.reload_if_newer() is False
    newer = load(current)
    newer.version = "99990101T000000000000Z"
    path = newer.save(models)
    assert understander.reload_if_newer() is True
    assert understander.model_path == path and understander.model.version == newer.version
    assert understander.reload_if_newer() is False
    assert understander.understand("转人工").intent == "human"
    engine.dispose()


def test_a_missing_model_is_trained_at_start(tmp_path: Path, sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    config = make_config(tmp_path, database={"url": sqlite_url},
                         nlu={"model_dir": str(tmp_path / "empty")})
    understander = build_understander(config, make_session_factory(engine))
    assert newest_artifact(tmp_path / "empty") is not None
    assert understander.understand("电梯困人了").intent == "emergency"
    engine.dispose()


def test_many_threads_understand_while_the_kb_changes(
    understander: LiveUnderstander, sessions: sessionmaker[Session]
) -> None:
    repo = FaqRepository(sessions)
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            for _ in range(30):
                assert understander.understand("门禁卡怎么办理").intent == "faq"
        except BaseException as exc:  # noqa: BLE001 - reported by the main thread
            failures.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(4)]
    for thread in threads:
        thread.start()
    for i in range(5):
        repo.save(id=f"extra{i}", question=f"测试问题{i}", answer="您好")
    for thread in threads:
        thread.join()
    assert not failures


def test_understanding_survives_a_database_outage(
    tmp_path: Path, sqlite_url: str, trained_model_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(sqlite_url)
    config = make_config(tmp_path, database={"url": sqlite_url},
                         nlu={"model_dir": str(trained_model_dir), "kb_check_seconds": 0.0})
    understander = build_understander(config, make_session_factory(engine))
    engine.dispose()
    Path(sqlite_url.removeprefix("sqlite:///")).unlink()
    (tmp_path / "wuye.db").mkdir()  # the path is now a directory: every query fails
    assert understander.understand("门禁卡丢了怎么办").faq_id == "access_card_lost"
    assert "database unavailable" in caplog.text
