"""The routing table, route by route: each check on its own, then the order between them."""

from __future__ import annotations

from typing import Any

import pytest

from bot import routing
from bot.routing import Choice, Turn
from bot.state import ConversationState
from nlu.decision import Decision, FaqCandidate


def turn(text: str, intent: str = "faq", confidence: float = 0.9, *, owner: str = "bot",
         loop: str | None = None, slots: dict[str, Any] | None = None,
         rating: dict[str, Any] | None = None, candidates: int = 0,
         faq_id: str | None = None) -> Turn:
    # The floors are the NLU's (nlu.engine sets them on every decision from config).
    decision = Decision(text=text, intent=intent, confidence=confidence, faq_id=faq_id,
                        candidates=[FaqCandidate(f"faq{i}", "", 0.5) for i in range(candidates)],
                        confidence_floor=0.5, margin_floor=0.1)
    state = ConversationState(openid="o_route", owner=owner, active_loop=loop,
                              slots=dict(slots or {}))
    return Turn(text=text, decision=decision, state=state, rating_pending=lambda: rating)


def chosen(result: Choice | None) -> str | None:
    return result.action if result else None


@pytest.mark.parametrize(("case", "expected"), [
    (turn("5", rating={"ticket": "BX1"}), "action_rating"),
    (turn("不满意，楼下还在滴水", rating={"ticket": "BX1"}), "action_rating"),
    (turn("5"), None),
    (turn("物业费怎么交", rating={"ticket": "BX1"}), None),
], ids=["digit", "unhappy-with-reason", "nothing-pending", "not-a-rating"])
def test_pending_rating(case: Turn, expected: str | None) -> None:
    assert chosen(routing.pending_rating(case)) == expected


@pytest.mark.parametrize(("case", "expected"), [
    (turn("煤气味好大", "emergency"), "action_emergency"),
    (turn("卫生间漏水", "repair"), None),
    (turn("在7栋楼梯间", "emergency", 0.4, loop="repair_form"), None),
    (turn("楼道里好大的煤气味", "emergency", 0.4, loop="repair_form"), "action_emergency"),
], ids=["emergency", "repair", "short-unsure-answer-to-a-form", "long-in-a-form"])
def test_emergency(case: Turn, expected: str | None) -> None:
    assert chosen(routing.emergency(case)) == expected


def calm(text: str, intent: str = "emergency", loop: str | None = None) -> Turn:
    from handlers.tickets.rules import DispatchRules

    base = turn(text, intent, loop=loop)
    return Turn(text=base.text, decision=base.decision, state=base.state,
                not_emergency=DispatchRules.load().not_emergency)


@pytest.mark.parametrize(("case", "expected"), [
    (calm("电梯停了，里面没人"), "repair_form"),
    (calm("家里停电了"), "repair_form"),
    (calm("停电了还冒烟"), None),
    (calm("电梯困人了"), None),
    (calm("电梯停了，里面没人", loop="complaint_form"), "complaint_form"),
], ids=["empty-lift", "outage", "outage-with-smoke", "trapped", "keeps-open-form"])
def test_calm_emergency(case: Turn, expected: str | None) -> None:
    assert chosen(routing.calm_emergency(case)) == expected


@pytest.mark.parametrize(("case", "expected"), [
    (turn("5栋2单元电梯", slots={"emergency_where": "JJ1"}), "action_emergency_where"),
    (turn("家里", slots={"emergency_where": "JJ1"}), "action_emergency_where"),
    (turn("物业费怎么交", slots={"emergency_where": "JJ1"}), None),
    (turn("5栋2单元电梯"), None),
], ids=["place", "home", "unrelated", "nothing-asked"])
def test_emergency_where(case: Turn, expected: str | None) -> None:
    assert chosen(routing.emergency_where(case)) == expected


@pytest.mark.parametrize(("case", "expected"), [
    (turn("取消人工", owner="waiting"), "action_cancel_handover"),
    (turn("不用了", owner="waiting"), "action_cancel_handover"),
    (turn("不用人工了，我自己看看", owner="waiting"), "action_cancel_handover"),
    (turn("取消人工"), None),
    (turn("物业费怎么交", owner="waiting"), None),
], ids=["cancel", "no-need", "with-remark", "not-waiting", "question"])
def test_cancel_person(case: Turn, expected: str | None) -> None:
    assert chosen(routing.cancel_person(case)) == expected


@pytest.mark.parametrize(("case", "expected"), [
    (turn("你们这什么破物业，气死我了", "complaint"), "action_anger"),
    (turn("怎么还没人来修！！！", "repair"), "action_anger"),
    (turn("保安态度不太好", "complaint"), None),
], ids=["words", "exclamations", "calm-complaint"])
def test_anger(case: Turn, expected: str | None) -> None:
    assert chosen(routing.anger(case)) == expected


@pytest.mark.parametrize(("case", "expected"), [
    (turn("转人工", "human"), "action_human"),
    (turn("人工客服"), "action_human"),
    (turn("人呢", owner="waiting"), "action_waiting_status"),
    (turn("这个问题想再问问", "human", 0.2), None),
    (turn("有人吗"), None),
    (turn("怎么还没人来", "human"), None),
], ids=["asks", "keyword", "waiting-asks-again", "unsure", "anyone-there-not-waiting",
        "urge-not-person"])
def test_asks_for_person(case: Turn, expected: str | None) -> None:
    assert chosen(routing.asks_for_person(case)) == expected


def test_faq_menu_choice_passes_the_entry() -> None:
    choice = routing.faq_menu_choice(turn("2", slots={"faq_menu": ["a", "b"]}))
    assert choice is not None and choice.args == {"faq_choice": "b"}
    assert routing.faq_menu_choice(turn("3", slots={"faq_menu": ["a", "b"]})) is None
    assert routing.faq_menu_choice(turn("2")) is None


@pytest.mark.parametrize(("case", "expected"), [
    (turn("3栋2单元502", loop="repair_form"), "repair_form"),
    (turn("3栋2单元502"), None),
], ids=["open", "none"])
def test_open_form(case: Turn, expected: str | None) -> None:
    assert chosen(routing.open_form(case)) == expected


@pytest.mark.parametrize(("case", "expected"), [
    (turn("继续", slots={"parked_forms": [{"loop": "repair_form", "slots": {}}]}),
     "action_resume_form"),
    (turn("继续"), None),
], ids=["parked", "nothing-parked"])
def test_resume_form(case: Turn, expected: str | None) -> None:
    assert chosen(routing.resume_form(case)) == expected


@pytest.mark.parametrize(("case", "expected", "number"), [
    (turn("催单", "ticket_status"), "action_urge", None),
    (turn("BX20261118-0003怎么还没人来", "repair"), "action_urge", "BX20261118-0003"),
    (turn("催一下FW20261118-0002", "service_request"), "action_urge", "FW20261118-0002"),
    (turn("bx20261118-0003", "out_of_scope"), "action_ticket_status", "BX20261118-0003"),
    (turn("卫生间漏水", "repair"), None, None),
    (turn("快递怎么还没来", "faq", 0.9), None, None),
], ids=["urge", "urge-number", "urge-a-booking", "number", "new-repair", "faq-not-urge"])
def test_follow_up(case: Turn, expected: str | None, number: str | None) -> None:
    choice = routing.follow_up(case)
    assert chosen(choice) == expected
    if choice is not None:
        assert choice.args.get("number") == number


@pytest.mark.parametrize(("case", "expected"), [
    (turn("不满意，楼下还在滴水", "complaint"), "action_reopen"),
    (turn("上次修的灯又坏了，还是不行", "repair"), "action_reopen"),
    (turn("不满意度调查怎么填", "faq"), None),
    (turn("卫生间漏水", "repair"), None),
], ids=["unhappy-reason", "broken-again", "faq", "new-repair"])
def test_reopen(case: Turn, expected: str | None) -> None:
    assert chosen(routing.reopen(case)) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("你能做什么", "action_capabilities"), ("你是谁？", "action_capabilities"),
    ("物业费怎么交", None)])
def test_capabilities(text: str, expected: str | None) -> None:
    assert chosen(routing.capabilities(turn(text, "out_of_scope"))) == expected


@pytest.mark.parametrize(("case", "expected"), [
    (turn("那个卡", "faq", 0.2, candidates=2), "action_faq"),
    (turn("呃呃呃", "greet", 0.2), "action_fallback"),
    (turn("物业费怎么交", "faq", 0.9), None),
    (turn("门禁卡", "faq", 0.2, faq_id="card"), None),
], ids=["menu", "rephrase", "sure", "faq-found"])
def test_unsure(case: Turn, expected: str | None) -> None:
    assert chosen(routing.unsure(case)) == expected


@pytest.mark.parametrize(("text", "intent", "expected"), [
    ("x", "repair", "repair_form"), ("x", "bill_query", "action_bill_query"),
    ("x", "no_such_intent", "action_fallback"),
    ("我要绑定3栋2单元502", "bind_house", "action_bind_house"),
    ("七栋一单元六零一热水器坏了", "bind_house", "repair_form")],
    ids=["repair", "bill", "unknown", "bind", "fault-naming-a-home"])
def test_by_intent(text: str, intent: str, expected: str) -> None:
    assert routing.by_intent(turn(text, intent)).action == expected


@pytest.mark.parametrize(("case", "route"), [
    (turn("5", "faq", slots={"faq_menu": ["a", "b", "c", "d", "e"]}, rating={"ticket": "B"}),
     "pending_rating"),
    (turn("电梯困人了", "emergency", loop="repair_form", owner="waiting"), "emergency"),
    (turn("转人工", "human", loop="repair_form"), "asks_for_person"),
    (turn("你是真人吗", "human"), "capabilities"),
    (turn("2", loop="repair_form", slots={"faq_menu": ["a", "b"]}), "faq_menu_choice"),
    (turn("催单", "ticket_status", loop="repair_form"), "follow_up"),
    (turn("随便", "faq", 0.1, loop="repair_form"), "open_form"),
    (turn("卫生间漏水", "repair"), "by_intent"),
], ids=["rating-before-menu", "emergency-before-form", "person-before-form",
        "about-us-before-person", "menu-before-form", "urge-before-form", "form-before-unsure",
        "intent-last"])
def test_the_order_of_routes(case: Turn, route: str) -> None:
    assert routing.route(case).route == route
