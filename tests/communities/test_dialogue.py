"""Residents of two communities through the signed webhook: fees, the community question,
switching homes, hours and phone numbers in hand-over and emergency replies."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from communities.directory import CommunityInfo
from communities.residents import ResidentCommunities
from core.models import Resident, Ticket
from core.models.console import HandoverRecord
from tests.communities.conftest import CUIHU, LANWAN, TWO_HOMES

FEE_QUESTION = "物业费多少钱一平"
ASKED = "请问您住在哪个小区"


def remembered(services: Any, openid: str) -> int | None:
    with services.sessions() as session:
        return session.scalar(select(Resident.community_id).where(Resident.openid == openid))


def test_same_fee_question_gets_each_communitys_own_fee(
        pusher: Any, two: dict[str, CommunityInfo]) -> None:
    cuihu = pusher.text(CUIHU, FEE_QUESTION).text
    lanwan = pusher.text(LANWAN, FEE_QUESTION).text
    assert "2.8元" in cuihu and "翠湖花园" in cuihu and "3.2元" not in cuihu
    assert "3.2元" in lanwan and "蓝湾雅苑" in lanwan and "2.8元" not in lanwan
    parking = pusher.text(LANWAN, "地下车位月租多少钱").text
    assert "400元" in parking


def test_topic_without_override_gives_the_company_answer(
        pusher: Any, services: Any, two: dict[str, CommunityInfo]) -> None:
    reply = pusher.text(LANWAN, "快递放在哪里取")
    entry = services.faqs.get("express_parcel")
    assert reply.text == entry.answer


def test_unbound_resident_is_asked_once_then_the_question_is_answered(
        pusher: Any, services: Any, two: dict[str, CommunityInfo]) -> None:
    openid = "o_new_resident"
    asked = pusher.text(openid, FEE_QUESTION).text
    assert ASKED in asked and "1. 翠湖花园" in asked and "2. 蓝湾雅苑" in asked
    answered = pusher.text(openid, "2").text
    assert "蓝湾雅苑" in answered and "3.2元" in answered  # the held question, answered
    assert remembered(services, openid) == two["lanwan"].id
    services.states.close(openid)  # a new conversation: still remembered, not asked
    again = pusher.text(openid, "访客停车怎么收费").text
    assert ASKED not in again and "3元/小时" in again


def test_unbound_resident_who_does_not_answer_is_not_asked_again(
        pusher: Any, two: dict[str, CommunityInfo]) -> None:
    openid = "o_busy_resident"
    assert ASKED in pusher.text(openid, FEE_QUESTION).text
    reply = pusher.text(openid, "快递放在哪里取").text
    assert ASKED not in reply and "快递" in reply
    assert ASKED not in pusher.text(openid, "地下车位月租多少钱").text


def test_unbound_resident_is_not_asked_what_is_the_same_everywhere(
        pusher: Any, services: Any, two: dict[str, CommunityInfo]) -> None:
    openid = "o_general_question"
    assert ASKED not in pusher.text(openid, "你好").text
    reply = pusher.text(openid, "快递放在哪里取").text
    assert reply == services.faqs.get("express_parcel").answer
    assert ASKED in pusher.text(openid, "卫生间漏水了").text  # a ticket needs its community
    started = pusher.text(openid, "1").text  # the held repair starts, for 翠湖花园
    assert "翠湖花园" in started and "房号" in started


def test_community_named_in_a_message_is_inferred_and_remembered(
        pusher: Any, services: Any, two: dict[str, CommunityInfo]) -> None:
    openid = "o_names_it"
    reply = pusher.text(openid, "我是蓝湾雅苑的，地下车位月租多少钱").text
    assert ASKED not in reply and "400元" in reply
    assert remembered(services, openid) == two["lanwan"].id
    only_name = pusher.text("o_answers_name", "蓝湾").text
    assert "蓝湾雅苑" in only_name and "请问有什么可以帮您" in only_name


def test_community_answer_by_name_to_the_question(
        pusher: Any, services: Any, two: dict[str, CommunityInfo]) -> None:
    openid = "o_types_name"
    assert ASKED in pusher.text(openid, "物业电话多少").text
    reply = pusher.text(openid, "翠湖花园").text
    assert "0571-88886666" in reply
    assert remembered(services, openid) == two["cuihu"].id


def test_resident_with_homes_in_two_communities_switches(
        pusher: Any, services: Any, two: dict[str, CommunityInfo]) -> None:
    assert "2.8元" in pusher.text(TWO_HOMES, FEE_QUESTION).text  # first home's community
    offer = pusher.text(TWO_HOMES, "切换小区").text
    assert "1. 翠湖花园" in offer and "2. 蓝湾雅苑" in offer
    assert "蓝湾雅苑" in pusher.text(TWO_HOMES, "2").text
    assert "3.2元" in pusher.text(TWO_HOMES, FEE_QUESTION).text
    assert ResidentCommunities(services.sessions).resolve(TWO_HOMES).code == "lanwan"
    bills = pusher.text(TWO_HOMES, "我的账单").text
    assert "8栋1单元602" in bills and "5栋2单元1502" in bills  # both homes, own bills


def test_one_home_resident_has_nothing_to_switch(
        pusher: Any, two: dict[str, CommunityInfo]) -> None:
    reply = pusher.text(LANWAN, "切换小区").text
    assert "蓝湾雅苑" in reply and "无需切换" in reply


def test_topic_of_another_community_only_is_not_answered_with_its_text(
        pusher: Any, two: dict[str, CommunityInfo]) -> None:
    """overtime_ac belongs to 翠湖花园 (its office tower) in the demo."""
    cuihu = pusher.text(CUIHU, "写字楼晚上加班要开空调怎么办").text
    lanwan = pusher.text(LANWAN, "写字楼晚上加班要开空调怎么办").text
    assert "150元" in cuihu
    assert "150元" not in lanwan and "蓝湾雅苑" in lanwan and "0571-86661234" in lanwan


def test_handover_follows_each_communitys_hours_and_phones(
        pusher: Any, services: Any, two: dict[str, CommunityInfo]) -> None:
    cuihu = pusher.text(CUIHU, "转人工").text
    lanwan = pusher.text(LANWAN, "转人工").text
    assert "预计几分钟内" in cuihu and "0571-88886110" in cuihu  # open until 18:00
    assert "非工作时间" in lanwan and "08:30-17:30" in lanwan and "09:00-12:00" in lanwan
    assert "明天（周四）8:30" in lanwan and "0571-86661119" in lanwan
    with services.sessions() as session:
        records = {r.openid: r for r in session.scalars(select(HandoverRecord))}
    assert records[CUIHU].community_id == two["cuihu"].id and not records[CUIHU].off_hours
    assert records[LANWAN].community_id == two["lanwan"].id and records[LANWAN].off_hours


def test_emergency_reply_gives_the_communitys_emergency_phone(
        pusher: Any, services: Any, two: dict[str, CommunityInfo]) -> None:
    lanwan = pusher.text(LANWAN, "电梯困人了 快来人").text
    cuihu = pusher.text(CUIHU, "电梯困人了 快来人").text
    assert "0571-86661119" in lanwan and "0571-88886110" not in lanwan
    assert "0571-88886110" in cuihu
    with services.sessions() as session:
        tickets = {t.openid: t for t in session.scalars(select(Ticket))}
    assert tickets[LANWAN].community_id == two["lanwan"].id
    assert tickets[CUIHU].community_id == two["cuihu"].id


def test_unbound_emergency_is_never_held_for_the_question(
        pusher: Any, two: dict[str, CommunityInfo]) -> None:
    reply = pusher.text("o_unbound_sos", "我住在蓝湾 家里水管爆了").text
    assert ASKED not in reply and "0571-86661119" in reply


def test_greeting_names_the_residents_community(
        pusher: Any, two: dict[str, CommunityInfo]) -> None:
    assert "蓝湾雅苑物业服务中心" in pusher.text(LANWAN, "你好").text
    assert "翠湖花园物业服务中心" in pusher.text(CUIHU, "你好").text


def test_binding_checks_the_chosen_communitys_roster(
        pusher: Any, services: Any, two: dict[str, CommunityInfo]) -> None:
    openid = "o_binds_lanwan"
    pusher.text(openid, "蓝湾雅苑")
    pusher.text(openid, "绑定房屋")
    pusher.text(openid, "2栋1单元302")
    done = pusher.text(openid, "4321").text
    assert "绑定成功" in done
    assert ResidentCommunities(services.sessions).home_ids(openid) == [two["lanwan"].id]


def test_new_follower_is_welcomed_and_asked_which_community(
        pusher: Any, services: Any, two: dict[str, CommunityInfo]) -> None:
    openid = "o_new_follower"
    welcome = pusher.event(openid, "subscribe").text
    assert "欢迎关注" in welcome and ASKED in welcome and "翠湖花园物业服务中心" not in welcome
    reply = pusher.text(openid, "1").text
    assert "翠湖花园" in reply and "请问有什么可以帮您" in reply
    assert remembered(services, openid) == two["cuihu"].id
    ignored = "o_ignores_welcome"
    assert ASKED in pusher.event(ignored, "subscribe").text
    assert ASKED not in pusher.text(ignored, "快递放在哪里取").text
    assert ASKED in pusher.text(ignored, FEE_QUESTION).text  # it matters now: asked once
    assert "3.2元" in pusher.text(ignored, "蓝湾").text
    bound_welcome = pusher.event(LANWAN, "subscribe").text
    assert "蓝湾雅苑物业服务中心" in bound_welcome and ASKED not in bound_welcome


def test_a_question_about_another_community_is_answered_for_it(
        pusher: Any, services: Any, two: dict[str, CommunityInfo]) -> None:
    reply = pusher.text(CUIHU, "蓝湾雅苑的地下车位月租多少钱").text
    assert "400元" in reply
    assert ResidentCommunities(services.sessions).resolve(CUIHU).code == "cuihu"  # unchanged
    assert "300元" in pusher.text(CUIHU, "地下车位月租多少钱").text
