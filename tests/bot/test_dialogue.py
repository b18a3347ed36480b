"""The dialogue engine through the signed webhook: greet, FAQ menu, refusals, fallback."""

from __future__ import annotations

from typing import Any

import pytest

from wuye.inspect import inspect_resident

OPENID = "o_dialogue"


def test_greet_and_goodbye_speak_the_service_language(pusher: Any) -> None:
    hello = pusher.text(OPENID, "你好")
    assert hello.text.startswith("您好") and "请问有什么可以帮您" in hello.text
    bye = pusher.text(OPENID, "好的 谢谢啦")
    assert "感谢" in bye.text or "不客气" in bye.text


def test_out_of_scope_gets_a_polite_refusal(pusher: Any) -> None:
    reply = pusher.text(OPENID, "帮我订张去北京的机票")
    assert "抱歉" in reply.text and "物业" in reply.text
    assert "不知道" not in reply.text


VAGUE = ["那个卡", "卡", "那个啥", "停车", "门禁"]
GIBBERISH = ["呃呃呃这个那个", "xjq zzk"]


def _unsure(services: Any, text: str) -> bool:
    nlu = services.config.nlu
    decision = services.understander.understand(text)
    return decision.confidence < nlu.confidence_threshold or decision.margin < nlu.margin_threshold


def test_unsure_question_offers_a_numbered_menu_and_accepts_a_number(
    pusher: Any, services: Any
) -> None:
    threshold = services.config.nlu.faq_suggest_threshold
    vague = [t for t in VAGUE
             if (d := services.understander.understand(t)).faq_id is None
             and sum(c.score >= threshold for c in d.candidates) >= 2]
    assert vague, "some vague property question must get a menu, not an answer"
    menu = pusher.text(OPENID, vague[0])
    assert "1." in menu.text and "2." in menu.text and "回复序号" in menu.text
    offered = services.states.load(OPENID).slots["faq_menu"]
    chosen = services.faqs.get(offered[1])
    answer = pusher.text(OPENID, "2")
    assert answer.text == chosen.answer
    assert "faq_menu" not in services.states.load(OPENID).slots


def test_menu_number_without_a_menu_is_not_taken_as_a_choice(pusher: Any,
                                                             services: Any) -> None:
    reply = pusher.text(OPENID, "2")
    assert not any(reply.text == f.answer for f in services.faqs.list())


def test_fallback_clarifies_then_flags_for_an_agent(pusher: Any, services: Any) -> None:
    for text in GIBBERISH:
        assert _unsure(services, text), f"precondition: the NLU is unsure about {text!r}"
        threshold = services.config.nlu.faq_suggest_threshold
        assert all(c.score < threshold for c in services.understander.understand(text).candidates)
    first = pusher.text(OPENID, GIBBERISH[0])
    assert "换个说法" in first.text
    assert inspect_resident(services, OPENID)["handover"] is None
    second = pusher.text(OPENID, GIBBERISH[1])
    assert "客服专员" in second.text
    report = inspect_resident(services, OPENID)
    assert report["handover"] is None  # unclear messages alone are no reason for a person
    inbound = [m for m in report["last_messages"] if m["direction"] == "in"]
    assert inbound[-1]["needs_agent"] is True


def test_inspect_lists_messages_with_nlu(pusher: Any, services: Any) -> None:
    pusher.text(OPENID, "物业服务中心在哪")
    report = inspect_resident(services, OPENID)
    assert set(report) == {"openid", "handover", "bound_rooms", "tickets", "last_messages"}
    assert report["handover"] is None
    directions = [m["direction"] for m in report["last_messages"]]
    assert directions == ["in", "out"]
    assert report["last_messages"][0]["nlu"]["faq_id"] == "service_center_location"


def test_state_survives_a_redis_flush(pusher: Any, services: Any) -> None:
    pusher.text(OPENID, "门禁")
    offered = services.states.load(OPENID).slots.get("faq_menu")
    services.redis.flushall()
    assert services.states.load(OPENID).slots.get("faq_menu") == offered


def test_menu_buttons_start_their_flow_without_the_nlu(pusher: Any, services: Any) -> None:
    faq = pusher.event(OPENID, "CLICK", "MENU_FAQ")
    assert "常问的问题" in faq.text and "8." in faq.text
    offered = services.states.load(OPENID).slots["faq_menu"]
    assert pusher.text(OPENID, "第八个").text == services.faqs.get(offered[7]).answer
    repair = pusher.event(OPENID, "CLICK", "MENU_REPAIR")
    assert services.states.load(OPENID).active_loop == "repair_form", repair.text


@pytest.mark.parametrize(
    ("text", "loop"),
    [("报修", "repair_form"), ("我要报修！", "repair_form"), ("投诉", "complaint_form"),
     ("绑定房屋", "bind_form")],
    ids=["repair", "repair-punctuated", "complaint", "bind"],
)
def test_keyword_messages_work_like_menu_buttons(pusher: Any, services: Any, text: str,
                                                 loop: str) -> None:
    pusher.text(OPENID, text)
    assert services.states.load(OPENID).active_loop == loop
