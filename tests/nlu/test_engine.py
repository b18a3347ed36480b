"""One decision per message: intent, calibrated confidence, margin, FAQ answer, entities."""

from __future__ import annotations

import pytest

from nlu.decision import Decision
from nlu.engine import NluEngine

INTENTS = {"greet", "goodbye", "faq", "repair", "complaint", "suggestion", "service_request",
           "ticket_status", "bill_query", "bind_house", "human", "emergency", "out_of_scope"}


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("你好 在吗", "greet"),
        ("好的 谢谢 没事了", "goodbye"),
        ("卫生间下水道堵了 水下不去", "repair"),
        ("楼上天天半夜蹦迪 吵得睡不着", "complaint"),
        ("建议小区多装几个快递柜", "suggestion"),
        ("明天上午搬家 想预约货梯", "service_request"),
        ("我前天报修的怎么还没人来", "ticket_status"),
        ("我家还欠多少物业费", "bill_query"),
        ("我是8栋1单元602的业主", "bind_house"),
        ("转人工", "human"),
        ("楼道里一股很浓的煤气味", "emergency"),
        ("帮我订张去北京的机票", "out_of_scope"),
    ],
)
def test_each_intent(engine: NluEngine, text: str, intent: str) -> None:
    decision = engine.understand(text)
    assert decision.intent == intent
    assert 0 <= decision.margin <= decision.confidence <= 1


def test_a_covered_question_is_answered_with_its_entry(engine: NluEngine) -> None:
    decision = engine.understand("物叶费多少钱一平")
    assert (decision.intent, decision.faq_id) == ("faq", "fee_standard")
    assert decision.faq_score >= engine.thresholds.faq_answer_threshold
    assert decision.candidates[0].faq_id == "fee_standard" and len(decision.candidates) == 3


def test_an_uncovered_property_question_gets_candidates_but_no_answer(engine: NluEngine) -> None:
    decision = engine.understand("小区能不能停直升机")
    assert decision.intent == "faq" and decision.faq_id is None
    assert decision.candidates and decision.faq_score < engine.thresholds.faq_answer_threshold


@pytest.mark.parametrize(
    "text", ["你好 请问垃圾什么时候扔", "快递放哪了 谢谢啦", "物业费怎么交 谢谢"]
)
def test_a_question_wrapped_in_greetings_or_thanks_is_answered(
    engine: NluEngine, text: str
) -> None:
    decision = engine.understand(text)
    assert decision.intent == "faq" and decision.faq_id is not None


@pytest.mark.parametrize(
    "text", ["谢谢 再见", "你好", "好的谢谢 没别的问题了", "早上好 有人吗", "晚上好 客服在不在"]
)
def test_plain_greetings_and_thanks_stay_small_talk(engine: NluEngine, text: str) -> None:
    assert engine.understand(text).intent in {"greet", "goodbye"}


def test_emergency_wins_even_inside_a_question(engine: NluEngine) -> None:
    decision = engine.understand("电梯困人了 物业电话多少")
    assert decision.intent == "emergency" and decision.faq_id is None


def test_entities_ride_along(engine: NluEngine) -> None:
    decision = engine.understand("3栋2单元502 马桶堵了 周六下午三点在家 电话138 0013 8000")
    assert decision.entity("room").normalized == {"building": "3", "unit": "2", "room": "502"}
    assert decision.entity("phone").normalized == "13800138000"
    assert decision.entity("time").normalized["clock"] == "15:00"


@pytest.mark.parametrize("text", ["", "   ", "😀", "？？？"])
def test_empty_or_symbol_only_input(engine: NluEngine, text: str) -> None:
    decision = engine.understand(text)
    assert decision.intent in INTENTS and decision.faq_id is None


def test_decisions_round_trip_as_dicts(engine: NluEngine) -> None:
    decision = engine.understand("3栋2单元502 门禁卡丢了怎么办")
    assert Decision.from_dict(decision.to_dict()) == decision


@pytest.mark.parametrize("text", ["门禁", "物业费", "卡", "停车"])
def test_a_bare_topic_word_gets_candidates_not_an_answer(engine: NluEngine, text: str) -> None:
    decision = engine.understand(text)
    assert decision.intent == "faq" and decision.faq_id is None
    assert decision.confidence < engine.thresholds.confidence_threshold
    assert decision.candidates


@pytest.mark.parametrize(("text", "intent"), [("漏水", "repair"), ("人工", "human"),
                                              ("你好", "greet"), ("救命", "emergency")])
def test_a_single_word_the_classifier_is_sure_of_keeps_its_intent(
    engine: NluEngine, text: str, intent: str
) -> None:
    assert engine.understand(text).intent == intent


@pytest.mark.parametrize("text", ["装修申请帮我办一下 要准备啥材料吗",
                                  "下个月装修 麻烦你们帮我办下装修许可 要带什么证件"])
def test_asking_the_office_to_act_is_a_request_not_a_rule_question(
    engine: NluEngine, text: str
) -> None:
    decision = engine.understand(text)
    assert decision.intent == "service_request" and decision.faq_id is None


@pytest.mark.parametrize(
    "text", ["报修三天了没人来 打电话推来推去 我要投诉", "说好昨天来修的人呢 我要投诉你们"]
)
def test_saying_i_file_a_complaint_makes_a_complaint(engine: NluEngine, text: str) -> None:
    assert engine.understand(text).intent == "complaint"


def test_asking_how_to_complain_is_not_a_complaint(engine: NluEngine) -> None:
    assert engine.understand("我要投诉 怎么投诉").intent != "complaint"
