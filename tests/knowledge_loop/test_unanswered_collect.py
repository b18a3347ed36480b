"""What counts as unanswered, read from the stored log: no entry, unsure fallbacks,
handovers for not being understood, unhelpful answers; each message once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.config import load_config
from core.db import make_engine, make_session_factory, transaction, utcnow
from core.models import Message
from core.models.console import HandoverRecord
from core.models.knowledge_loop import AnswerFeedback
from knowledge_loop.unanswered import UnansweredQueue, group_items


@pytest.fixture()
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def message(session: Session, text: str, nlu: dict[str, object] | None,
            status: str = "processed", age: float = 60) -> Message:
    row = Message(openid="o_1", direction="in", msg_type="text", text=text, nlu=nlu,
                  status=status, created_at=utcnow() - timedelta(seconds=age))
    session.add(row)
    session.flush()
    return row


def test_each_kind_of_miss_is_collected_once(sessions: sessionmaker[Session]) -> None:
    with transaction(sessions) as session:
        message(session, "小区有没有洗衣房", {"intent": "faq", "faq_id": None, "confidence": 0.9})
        message(session, "物业费怎么交", {"intent": "faq", "faq_id": "fee_payment",
                                          "confidence": 0.99})
        message(session, "那个东西怎么弄", {"intent": "repair", "confidence": 0.2,
                                             "candidates": []})
        message(session, "你好", {"intent": "greet", "confidence": 0.99})
        unclear = message(session, "嗯嗯那个就是说", {"intent": "suggestion", "confidence": 0.6,
                                                     "candidates": [{"faq_id": "x"}]})
        session.add(HandoverRecord(openid="o_1", reason="fallback", message_id=unclear.id))
        session.add(HandoverRecord(openid="o_2", reason="human", message_id=None))
        session.add(AnswerFeedback(openid="o_3", faq_id="hotline", question="电话打不通怎么办",
                                   asked=True, helpful=False, answered_at=utcnow()))
        session.add(AnswerFeedback(openid="o_4", faq_id="hotline", question="物业电话",
                                   asked=True, helpful=True, answered_at=utcnow()))
        message(session, "正在处理中的提问", None, status="received", age=1)
    queue = UnansweredQueue(sessions, load_config(env={}))
    assert queue.collect() == 4
    assert queue.collect() == 0  # the cursors moved on
    reasons = {item.text: item.reason for item in queue.open_items()}
    assert reasons == {"小区有没有洗衣房": "no_entry", "那个东西怎么弄": "fallback",
                       "嗯嗯那个就是说": "not_understood", "电话打不通怎么办": "unhelpful"}
    # The message still being answered is read once it is done.
    with transaction(sessions) as session:
        row = session.query(Message).filter_by(text="正在处理中的提问").one()
        row.status, row.nlu = "processed", {"intent": "faq", "faq_id": None}
    assert queue.collect() == 1


def test_grouping_keeps_topics_apart() -> None:
    from core.models.knowledge_loop import UnansweredItem

    texts = ["小区有没有洗衣房", "洗衣房在什么位置呀", "小区有没有健身房", "哪里可以自助洗车",
             "小区里有自助洗车吗"]
    items = [UnansweredItem(id=n, text=t, reason="no_entry", created_at=utcnow())
             for n, t in enumerate(texts, 1)]
    groups = group_items(items, 0.35)
    assert sorted(sorted(g.examples) for g in groups) == sorted([
        sorted(texts[:2]), [texts[2]], sorted(texts[3:])])
