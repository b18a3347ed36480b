"""Feedback on FAQ answers (asked now and then, counted per entry, unhelpful → queue) and
the welcome card (猜你想问) on subscribe and 常见问题."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from knowledge_loop.feedback import FeedbackStore, parse_choice
from knowledge_loop.unanswered import UnansweredQueue
from knowledge_loop.welcome import WelcomeCards
from tests.admin.conftest import Staff

PROMPT = "这个回答对您有帮助吗"


@pytest.fixture()
def outbox_texts(services: Any, fake_wechat: Any) -> Any:
    def texts(openid: str) -> list[str]:
        services.outbox.run_once()
        return [b.get("text", {}).get("content", "") for b in fake_wechat.sent_to(openid)]
    return texts


def test_feedback_is_asked_once_per_conversation_and_counted(
    services: Any, pusher: Any, outbox_texts: Any, admin_staff: Staff
) -> None:
    services.deps.feedback.config = dataclasses.replace(
        services.config.knowledge, feedback_mode="conversation")
    answer = pusher.text("o_fb", "物业费怎么交")
    assert PROMPT not in answer.text  # the answer itself is unchanged
    assert any(PROMPT in t for t in outbox_texts("o_fb"))
    assert "感谢您的反馈，很抱歉" in pusher.text("o_fb", "3").text
    pusher.text("o_fb", "门禁卡丢了怎么办")
    assert sum(PROMPT in t for t in outbox_texts("o_fb")) == 1  # not on every answer
    assert "感谢您的反馈" not in pusher.text("o_fb", "1").text  # nothing pending: no claim

    store = FeedbackStore(services.sessions)
    summary = store.summary("fee_payment")
    assert (summary.helpful, summary.unhelpful, summary.reasons) == (0, 1, [("答非所问", 1)])
    page = admin_staff.get("/admin/faq/fee_payment").text
    assert "没帮助 1" in page and "答非所问：1" in page and "物业费怎么交" in page
    groups = UnansweredQueue(services.sessions, services.config).groups()
    assert [(g.text, g.reasons) for g in groups] == [("物业费怎么交", [("回答没帮助", 1)])]


def test_every_third_answer_is_asked_by_default(services: Any, pusher: Any,
                                                outbox_texts: Any) -> None:
    for question in ("物业费怎么交", "门禁卡丢了怎么办", "服务中心几点上班"):
        pusher.text("o_third", question)
    texts = outbox_texts("o_third")
    assert sum(PROMPT in t for t in texts) == 1
    assert "感谢您的反馈，很高兴" in pusher.text("o_third", "1").text


def test_every_nth_answer_mode(services: Any) -> None:
    config = dataclasses.replace(services.config.knowledge, feedback_mode="every_nth",
                                 feedback_every_nth=3)
    store = FeedbackStore(services.sessions, config)
    asked = [store.answered("o_n", "fee_payment", "物业费怎么交") for _ in range(7)]
    assert asked == [False, False, True, False, False, True, False]
    assert store.claims("o_n", "1") is False  # the last answer was not asked about
    assert parse_choice("２") == 2 and parse_choice("没帮助") == 2 and parse_choice("22") is None


def test_welcome_card_offers_the_most_asked_and_a_number_answers(
    services: Any, pusher: Any, admin_staff: Staff
) -> None:
    store = FeedbackStore(services.sessions)
    for _ in range(3):
        store.answered("o_x", "parking_visitor", "访客停车")
    store.answered("o_x", "hotline", "电话多少")
    welcome = pusher.event("o_w", "subscribe").text
    assert "欢迎关注" in welcome and "猜你想问" in welcome
    first, second = services.faqs.get("parking_visitor"), services.faqs.get("hotline")
    assert welcome.index(first.question) < welcome.index(second.question)
    assert pusher.text("o_w", "2").text == second.answer

    admin_staff.client.post("/admin/welcome", data={
        "faq_ids": ["office_hours", "fee_payment"], "csrf_token": admin_staff.csrf})
    assert WelcomeCards(services.sessions).faq_ids() == ["office_hours", "fee_payment"]
    overview = pusher.text("o_w2", "常见问题").text
    assert overview.index(services.faqs.get("office_hours").question) < \
        overview.index(services.faqs.get("fee_payment").question)
    assert pusher.text("o_w2", "2").text == services.faqs.get("fee_payment").answer


def test_a_digit_after_another_message_is_not_feedback(services: Any, pusher: Any,
                                                       outbox_texts: Any) -> None:
    for question in ("物业费怎么交", "门禁卡丢了怎么办", "服务中心几点上班"):
        pusher.text("o_later", question)
    assert any(PROMPT in t for t in outbox_texts("o_later"))
    pusher.text("o_later", "你好")
    assert "感谢您的反馈" not in pusher.text("o_later", "1").text
    assert FeedbackStore(services.sessions).summary("office_hours").helpful == 0
