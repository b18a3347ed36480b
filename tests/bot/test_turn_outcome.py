"""A turn's outcome is one transaction: replies, conversation state and the records the
turn keeps are written together, under the conversation's turn lock, or not at all."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from sqlalchemy import event, func, select

from bot.gateway import LostClaim
from bot.inbound import parse_inbound
from bot.push import build_xml
from core.db import utcnow
from core.models import Conversation, Message
from core.models.knowledge_loop import AnswerFeedback

OPENID = "o_outcome_1"


def _count(services: Any, model: Any, *where: Any) -> int:
    with services.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)))


def test_a_push_costs_two_transactions_with_state_and_answer_log(pusher: Any,
                                                                 services: Any) -> None:
    pusher.text(OPENID, "你好")  # the conversation exists
    commits: list[int] = []

    def count_commit(_conn: object) -> None:
        commits.append(1)

    event.listen(services.db, "commit", count_commit)
    try:
        result = pusher.text(OPENID, "物业费怎么交")
    finally:
        event.remove(services.db, "commit", count_commit)
    assert result.status_code == 200 and "缴费" in result.text
    assert len(commits) == 2  # the store, then the outcome
    with services.sessions() as session:
        inbound = session.scalars(select(Message).where(
            Message.direction == "in").order_by(Message.id.desc())).first()
        conversation = session.get(Conversation, inbound.conversation_id)
        logged = session.scalars(select(AnswerFeedback.faq_id)).all()
    assert inbound.status == "processed"
    assert conversation is not None and conversation.openid == OPENID
    assert conversation.last_message_at >= inbound.created_at
    assert logged == ["fee_payment"]


def _stored_turn(services: Any, text: str, msg_id: int) -> tuple[Any, Any]:
    xml = build_xml({"ToUserName": "gh_test", "FromUserName": OPENID,
                     "CreateTime": int(time.time()), "MsgType": "text", "Content": text,
                     "MsgId": msg_id})
    inbound = parse_inbound(xml.encode())
    claim = services.messages.store_inbound(inbound, xml, timedelta(seconds=30))
    assert claim is not None
    return inbound, claim


def test_a_lost_claim_keeps_neither_state_nor_answer_log(services: Any) -> None:
    gateway = services.gateway
    inbound, claim = _stored_turn(services, "物业费怎么交", 9001)
    turn = gateway.run_turn(inbound, claim)
    assert turn.replies and turn.state is not None
    # The sweeper takes the push over (the lease ran out) before the outcome is written.
    stolen = services.messages.claim_stale(timedelta(seconds=30), 10,
                                           now=utcnow() + timedelta(seconds=60))
    assert [c.message_id for c, _ in stolen] == [claim.message_id]
    try:
        gateway.write_outcome(inbound, claim, turn, None)
        raise AssertionError("the outcome of a lost claim was written")
    except LostClaim:
        pass
    finally:
        gateway.finish(turn)
    assert _count(services, AnswerFeedback) == 0
    assert _count(services, Conversation, Conversation.openid == OPENID) == 0
    assert _count(services, Message, Message.direction == "out") == 0
    assert services.states.load(OPENID).conversation_id is None


def test_console_takeover_waits_for_the_turns_outcome(services: Any) -> None:
    """An agent taking the conversation while a turn runs does so after its outcome is
    committed, so neither overwrites the other's state."""
    gateway = services.gateway
    inbound, claim = _stored_turn(services, "你好", 9002)
    turn = gateway.run_turn(inbound, claim)  # holds the turn lock
    taken = threading.Event()

    def take() -> None:
        services.handover.take_over(OPENID, 1)
        taken.set()

    taker = threading.Thread(target=take)
    taker.start()
    try:
        assert not taken.wait(0.5)  # the console waits for the turn
        gateway.write_outcome(inbound, claim, turn, None)
    finally:
        gateway.finish(turn)
    taker.join(15)
    assert taken.is_set()
    state = services.states.load(OPENID)
    assert state.owner == "agent" and state.agent_id == 1
    with services.sessions() as session:
        rows = session.scalars(select(Conversation).where(Conversation.openid == OPENID)).all()
    assert [(r.owner, r.agent_id) for r in rows] == [("agent", 1)]
