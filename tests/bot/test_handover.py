"""Handover through the signed webhook: every trigger, silence while a person owns, hand back.

The service clock is set through config (handoff.clock), never patched.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.handover import EVENTS_CHANNEL, HandoverError
from bot.messages import MessageLog
from bot.replies import Reply
from bot.state import ConversationState
from core.config import Config, load_config
from core.db import transaction
from core.models import Message, Ticket
from core.models.console import ConversationRating, HandoverRecord
from handlers.human import ServiceHours
from handlers.phrases import is_angry
from handlers.ratings import parse_rating

OPENID = "o_handover"
WEEKDAY_MORNING = "2026-11-18T10:00:00+08:00"  # a Wednesday, within 9:00-18:00
SATURDAY_NIGHT = "2026-11-21T22:00:00+08:00"
AGENT_ID = 7


@pytest.fixture()
def clock() -> str:
    return WEEKDAY_MORNING


@pytest.fixture(autouse=True)
def console(app: Any) -> Any:
    """The console wires the handover to the database (as create_app does via admin.register)."""
    return app


@pytest.fixture()
def silence() -> int:
    return 180


@pytest.fixture()
def app_config(app_config: Config, clock: str, silence: int) -> Config:
    return dataclasses.replace(app_config, handoff=dataclasses.replace(
        app_config.handoff, clock=clock, agent_silence_seconds=silence))


class EventLog:
    """Everything published to the consoles since the test began."""

    def __init__(self, pubsub: Any) -> None:
        self.pubsub = pubsub
        self.seen: list[dict[str, Any]] = []

    def all(self) -> list[dict[str, Any]]:
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            message = self.pubsub.get_message(timeout=0.1)
            if message and message.get("type") == "message":
                self.seen.append(json.loads(message["data"]))
                deadline = time.monotonic() + 0.5
        return self.seen


@pytest.fixture()
def events(redis_client: Any) -> Iterator[EventLog]:
    pubsub = redis_client.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(EVENTS_CHANNEL)
    yield EventLog(pubsub)
    pubsub.close()


def records(services: Any) -> list[HandoverRecord]:
    with services.sessions() as session:
        return list(session.scalars(select(HandoverRecord).order_by(HandoverRecord.id)))


def owner(services: Any, openid: str = OPENID) -> str:
    return services.states.load(openid).owner


# -- triggers -------------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["转人工", "人工客服", "我要找客服", "我要跟客服说话"])
def test_asking_for_a_person_queues_and_says_a_person_is_coming(
    pusher: Any, services: Any, events: EventLog, text: str
) -> None:
    reply = pusher.text(OPENID, text)
    assert reply.text.startswith("您好，已为您转接人工客服")
    assert "排在第1位" in reply.text and "非工作时间" not in reply.text
    assert "取消人工" in reply.text
    assert owner(services) == "waiting"
    [record] = records(services)
    assert record.reason == "human" and record.status == "waiting" and not record.off_hours
    assert any(e["type"] == "handover" and e["openid"] == OPENID for e in events.all())


def test_asking_for_a_person_keeps_the_form_in_progress(pusher: Any, services: Any) -> None:
    pusher.text(OPENID, "卫生间漏水了")
    assert services.states.load(OPENID).active_loop == "repair_form"
    reply = pusher.text(OPENID, "转人工")
    assert reply.text.startswith("您好，已为您转接人工客服") and "已为您保留" in reply.text
    state = services.states.load(OPENID)
    assert state.owner == "waiting" and state.active_loop == "repair_form"


@pytest.mark.parametrize("clock", [SATURDAY_NIGHT])
def test_off_hours_request_stays_queued_and_says_when_agents_are_back(
    pusher: Any, services: Any
) -> None:
    reply = pusher.text(OPENID, "转人工")
    assert "非工作时间" in reply.text and "明天（周日）9:00" in reply.text
    assert "{" not in reply.text
    [record] = records(services)
    assert record.off_hours and record.status == "waiting"
    assert owner(services) == "waiting"


def offer_menu(pusher: Any) -> None:
    """A bare topic word is never answered outright: the bot offers a numbered FAQ menu."""
    assert "回复序号" in pusher.text(OPENID, "门禁").text


def test_unsure_again_after_a_faq_menu_is_no_reason_for_a_person(pusher: Any,
                                                               services: Any) -> None:
    offer_menu(pusher)
    again = pusher.text(OPENID, mumble(services, offers=False))
    assert "转接人工客服" not in again.text and "人工" in again.text
    assert owner(services) == "bot" and records(services) == []


MUMBLES = ("证明", "怎么办理", "手续", "呃呃呃这个那个", "这个那个那个", "那个那个呃呃",
           "呃这个那个", "随便问问那个", "呃呃那个谁", "嗯嗯啊这个", "那个啥呃呃")


def mumble(services: Any, offers: bool, skip: str = "") -> str:
    """A text the current model is unsure of, with (offers) or without FAQ suggestions."""
    nlu = services.config.nlu
    for text in MUMBLES:
        decision = services.understander.understand(text)
        unsure = decision.confidence < nlu.confidence_threshold or \
            decision.margin < nlu.margin_threshold
        suggests = any(c.score >= nlu.faq_suggest_threshold for c in decision.candidates)
        if text != skip and unsure and decision.faq_id is None \
                and decision.intent != "emergency" and suggests == offers:
            return text
    raise AssertionError("the NLU model is sure of every mumble: low confidence goes untested")


def test_two_unclear_messages_are_flagged_not_handed_over(pusher: Any,
                                                         services: Any) -> None:
    first = mumble(services, offers=False)
    assert "换个说法" in pusher.text(OPENID, first).text
    second = pusher.text(OPENID, mumble(services, offers=False, skip=first))
    assert "客服专员" in second.text and "人工" in second.text
    assert owner(services) == "bot" and records(services) == []
    with services.sessions() as session:
        flagged = session.scalars(select(Message).where(
            Message.direction == "in", Message.needs_agent.is_(True))).all()
    assert len(flagged) == 2


@pytest.mark.parametrize("text", ["你们这什么破物业，气死我了", "怎么还没人来修！！！",
                                  "WHY NOBODY ANSWERS"],
                         ids=["strong-words", "exclamations", "capitals"])
def test_anger_is_calmed_and_handed_over(pusher: Any, services: Any, text: str) -> None:
    reply = pusher.text(OPENID, text)
    assert reply.text.startswith("您好，非常抱歉")
    assert "已为您转接人工客服" in reply.text
    assert owner(services) == "waiting"
    assert records(services)[0].reason == "anger"
    with services.sessions() as session:
        complaint = session.scalars(select(Ticket)).one()
    assert complaint.type == "complaint" and complaint.wants_callback
    assert complaint.number in reply.text


@pytest.mark.parametrize(("text", "angry"), [
    ("保安态度太差了", False), ("你们这什么破物业", True), ("快点！！！", True),
    ("WHY NOBODY ANSWERS", True), ("物业费怎么交", False)])
def test_anger_words(text: str, angry: bool) -> None:
    assert is_angry(text, load_config(env={}).handoff.anger_exclamations) is angry


def test_emergency_is_answered_by_its_own_action_and_alerts_at_once(
    pusher: Any, services: Any, events: EventLog
) -> None:
    reply = pusher.text(OPENID, "楼道里好大的煤气味")
    assert services.config.service.emergency_phone in reply.text
    assert "已为您转接人工客服" not in reply.text
    assert owner(services) == "waiting"
    assert records(services)[0].reason == "emergency"
    assert any(e["type"] == "handover" and e["emergency"] for e in events.all())


# -- ownership --------------------------------------------------------------------------------
def test_bot_answers_while_waiting_and_is_silent_while_an_agent_owns(
    pusher: Any, services: Any, events: EventLog
) -> None:
    pusher.text(OPENID, "转人工")
    assert "缴费" in pusher.text(OPENID, "物业费怎么交").text
    assert "排在第1位" in pusher.text(OPENID, "还要等多久").text
    services.handover.take_over(OPENID, AGENT_ID)
    assert pusher.text(OPENID, "卫生间漏水了").replies == []
    assert pusher.image(OPENID, "http://127.0.0.1/leak.jpg").replies == []
    assert pusher.voice(OPENID, "水越来越大了").replies == []
    with services.sessions() as session:
        inbound = session.scalars(select(Message).where(
            Message.direction == "in", Message.text == "卫生间漏水了")).one()
    assert inbound.nlu and inbound.nlu["intent"]  # still annotated for the agent
    assert inbound.status == "processed"
    forwarded = [e for e in events.all() if e["type"] == "message"]
    assert len(forwarded) == 3 and forwarded[-1]["agent_id"] == AGENT_ID
    [record] = records(services)
    assert record.status == "agent" and record.taken_at is not None


@pytest.mark.parametrize("text", ["取消人工", "不用人工了", "不用了"])
def test_waiting_resident_can_cancel(pusher: Any, services: Any, text: str) -> None:
    pusher.text(OPENID, "转人工")
    reply = pusher.text(OPENID, text)
    assert "已为您取消" in reply.text
    assert owner(services) == "bot"
    [record] = records(services)
    assert record.status == "ended" and record.outcome == "cancelled"


@pytest.mark.parametrize("silence", [1])
def test_silent_agent_is_reminded_and_resident_acknowledged(
    pusher: Any, services: Any, events: EventLog
) -> None:
    pusher.text(OPENID, "转人工")
    services.handover.take_over(OPENID, AGENT_ID)
    assert pusher.text(OPENID, "在吗").replies == []  # the agent just took over
    time.sleep(1.1)
    reply = pusher.text(OPENID, "人呢？")
    assert "客服专员正在处理" in reply.text
    assert any(e["type"] == "reminder" for e in events.all())
    assert pusher.text(OPENID, "还在吗").replies == []  # once per period


@pytest.mark.parametrize("silence", [1])
def test_resident_who_wrote_once_is_acknowledged_by_the_worker(
    pusher: Any, services: Any, events: EventLog
) -> None:
    """Nobody writes again: the worker's SilenceWatch acknowledges and reminds, once."""
    pusher.text(OPENID, "转人工")
    services.handover.take_over(OPENID, AGENT_ID)
    assert pusher.text(OPENID, "楼下一直在滴水，麻烦快点").replies == []
    assert services.silence.run_once() == 0  # not silent long enough yet
    time.sleep(1.1)
    assert services.silence.run_once() == 1
    assert services.silence.run_once() == 0  # once per silence period
    with services.sessions() as session:
        acks = session.scalars(select(Message).where(
            Message.openid == OPENID, Message.direction == "out",
            Message.text.contains("客服专员正在处理"))).all()
    assert len(acks) == 1 and acks[0].status == "queued"
    assert any(e["type"] == "reminder" and e["agent_id"] == AGENT_ID for e in events.all())


@pytest.mark.parametrize("silence", [1])
def test_an_answered_resident_is_not_acknowledged(pusher: Any, services: Any) -> None:
    pusher.text(OPENID, "转人工")
    services.handover.take_over(OPENID, AGENT_ID)
    pusher.text(OPENID, "在吗")
    with transaction(services.sessions) as session:  # what the console's reply writes
        MessageLog.add_outbound(session, OPENID, Reply("text", "您好，我在，请讲"), "custom",
                                "queued", sender="agent")
    time.sleep(1.1)
    assert services.silence.run_once() == 0


def test_emergency_still_answered_while_an_agent_owns(pusher: Any, services: Any) -> None:
    pusher.text(OPENID, "转人工")
    services.handover.take_over(OPENID, AGENT_ID)
    reply = pusher.text(OPENID, "电梯困人了快来人")
    assert services.config.service.emergency_phone in reply.text
    assert owner(services) == "agent"


def test_hand_back_lets_the_bot_answer_again(pusher: Any, services: Any) -> None:
    pusher.text(OPENID, "转人工")
    services.handover.take_over(OPENID, AGENT_ID)
    with pytest.raises(HandoverError):
        services.handover.hand_back(OPENID, AGENT_ID + 1)
    services.handover.hand_back(OPENID, AGENT_ID)
    answer = pusher.text(OPENID, "物业费怎么交")
    assert "缴费" in answer.text
    [record] = records(services)
    assert record.status == "ended" and record.outcome == "handed_back"


def answered_by_agent(services: Any) -> None:
    """The agent replied (what the console's reply does to the handover record)."""
    with transaction(services.sessions) as session:
        services.handover.note_agent_reply(session, OPENID)


def test_closing_a_conversation_no_agent_answered_asks_for_no_rating(
    pusher: Any, services: Any
) -> None:
    pusher.text(OPENID, "转人工")
    services.handover.take_over(OPENID, AGENT_ID)
    assert services.handover.close(OPENID, AGENT_ID) is None
    assert services.handover.take_pending_rating(OPENID) is None
    with services.sessions() as session:
        assert session.scalars(select(ConversationRating)).all() == []
    assert "缴费" in pusher.text(OPENID, "物业费怎么交").text


def test_close_asks_for_a_rating_and_the_next_reply_is_recorded(
    pusher: Any, services: Any
) -> None:
    pusher.text(OPENID, "转人工")
    first = services.states.load(OPENID).conversation_id
    services.handover.take_over(OPENID, AGENT_ID)
    answered_by_agent(services)
    services.handover.close(OPENID, AGENT_ID)
    thanks = pusher.text(OPENID, "5")
    assert "感谢您的评价" in thanks.text
    with services.sessions() as session:
        rating = session.scalars(select(ConversationRating)).one()
    assert rating.score == 5 and rating.agent_id == AGENT_ID
    state = services.states.load(OPENID)
    assert state.owner == "bot" and state.conversation_id != first
    assert "缴费" in pusher.text(OPENID, "物业费怎么交").text


def test_unhappy_rating_is_flagged_for_a_supervisor(pusher: Any, services: Any) -> None:
    pusher.text(OPENID, "转人工")
    services.handover.take_over(OPENID, AGENT_ID)
    answered_by_agent(services)
    services.handover.close(OPENID, AGENT_ID)
    reply = pusher.text(OPENID, "不满意")
    assert "非常抱歉" in reply.text
    with services.sessions() as session:
        assert session.scalars(select(ConversationRating)).one().score == 1
        last_in = session.scalars(select(Message).where(Message.direction == "in")
                                  .order_by(Message.id.desc())).first()
    assert last_in is not None and last_in.needs_agent


def test_a_new_question_after_close_is_not_taken_as_a_rating(
    pusher: Any, services: Any
) -> None:
    pusher.text(OPENID, "转人工")
    services.handover.take_over(OPENID, AGENT_ID)
    answered_by_agent(services)
    services.handover.close(OPENID, AGENT_ID)
    assert "缴费" in pusher.text(OPENID, "物业费怎么交").text
    with services.sessions() as session:
        assert session.scalars(select(ConversationRating)).one().score is None


# -- the clock and the words ---------------------------------------------------------------------
@pytest.mark.parametrize(("moment", "is_open", "back"), [
    ("2026-11-18T08:30:00+08:00", False, "今天9:00"),
    ("2026-11-18T17:59:00+08:00", True, "今天17:59"),
    ("2026-11-20T18:00:00+08:00", False, "明天（周六）9:00"),
    ("2026-11-22T17:40:00+08:00", False, "明天（周一）9:00"),
    ("2026-10-01T17:45:00+08:00", False, "明天（周五）9:00"),
], ids=["before-opening", "last-minute", "friday-evening", "sunday-after-1730", "holiday"])
def test_service_hours(moment: str, is_open: bool, back: str) -> None:
    config = load_config(env={}, overrides={"handoff": {"clock": moment,
                                                        "holidays": "2026-10-01"}})
    hours = ServiceHours(config)
    assert hours.is_open() is is_open
    assert hours.describe(hours.next_opening()) == back


@pytest.mark.parametrize(("text", "score"), [
    ("5", 5), ("５分", 5), ("满意", 5), ("一般", 3), ("不满意", 1), ("非常不满意，太慢了", 1),
    ("我要报修", None), ("12", None),
])
def test_parse_rating(text: str, score: int | None) -> None:
    assert parse_rating(text) == score


def test_a_console_change_waits_for_the_engine_turn_in_progress(services: Any) -> None:
    """Ownership changes and engine turns never interleave (each would save over the other)."""
    import threading

    services.handover.states.save(ConversationState(openid=OPENID, owner="waiting"))
    inside, release = threading.Event(), threading.Event()

    def engine_turn() -> None:
        with services.handover.turn(OPENID):
            inside.set()
            release.wait(5)

    worker = threading.Thread(target=engine_turn)
    worker.start()
    inside.wait(5)
    started = time.monotonic()
    threading.Timer(0.3, release.set).start()
    services.handover.take_over(OPENID, AGENT_ID)
    worker.join(5)
    assert time.monotonic() - started >= 0.25
    assert owner(services) == "agent"
