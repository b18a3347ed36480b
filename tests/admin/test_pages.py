"""Admin pages: canned replies, users, FAQ editing and the KPI view."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from core.models.console import CannedReply
from tests.admin.conftest import Staff


def test_admin_edits_canned_replies(admin_staff: Staff, agent: Staff, services: Any) -> None:
    text = "您好，今日10:00-14:00小区计划停水，请提前储水。"
    added = admin_staff.form("/admin/canned", {"shortcut": "/停水", "title": "停水通知",
                                               "text": text})
    assert added.status_code == 302
    assert any(c["shortcut"] == "/停水" for c in agent.get("/console/api/canned").json["canned"])
    with services.sessions() as session:
        row = session.scalars(select(CannedReply).where(CannedReply.shortcut == "/停水")).one()
    admin_staff.form("/admin/canned", {"id": str(row.id), "shortcut": "/停水",
                                       "title": "停水", "text": "您好，停水时间已调整。"})
    assert "停水时间已调整" in admin_staff.get("/admin/canned").text
    admin_staff.form(f"/admin/canned/{row.id}/delete", {})
    assert "/停水" not in admin_staff.get("/admin/canned").text


def test_bad_canned_reply_is_refused_with_a_message(admin_staff: Staff) -> None:
    admin_staff.form("/admin/canned", {"shortcut": "没有斜杠", "text": "x"})
    assert "快捷短语须以 / 开头" in admin_staff.get("/admin/canned").text


def test_admin_lists_and_adds_users(admin_staff: Staff) -> None:
    admin_staff.form("/admin/users", {"username": "wang", "display_name": "小王",
                                      "password": "long-enough-1", "role": "agent"})
    page = admin_staff.get("/admin/users").text
    assert "wang" in page and "小王" in page and "boss" in page
    admin_staff.form("/admin/users", {"username": "li", "password": "short", "role": "agent"})
    assert "密码至少" in admin_staff.get("/admin/users").text


def test_admin_edits_and_disables_a_faq(admin_staff: Staff, services: Any) -> None:
    faq = services.faqs.list()[0]
    assert faq.question in admin_staff.get("/admin/faq").text
    admin_staff.form(f"/admin/faq/{faq.id}", {
        "question": faq.question, "answer": "您好，新的答案。", "category": faq.category,
        "similar_questions": "\n".join(faq.similar_questions), "keywords": "", "enabled": "1"})
    saved = services.faqs.get(faq.id)
    assert saved.answer == "您好，新的答案。" and saved.version == faq.version + 1
    admin_staff.form(f"/admin/faq/{faq.id}/enabled", {"enabled": "0"})
    assert services.faqs.get(faq.id).enabled is False
    admin_staff.form("/admin/faq/new", {"id": "new_topic", "question": "快递柜在哪",
                                        "answer": "您好，快递柜在东门。", "enabled": "1"})
    assert services.faqs.get("new_topic").answer == "您好，快递柜在东门。"


def test_kpi_page_shows_handover_answer_rate_and_satisfaction(
    pusher: Any, agent: Staff, admin_staff: Staff, services: Any
) -> None:
    pusher.text("o_kpi1", "转人工")
    pusher.text("o_kpi2", "转人工")
    pusher.text("o_kpi3", "物业费怎么交")
    agent.post("/console/api/conversations/o_kpi1/take")
    agent.post("/console/api/conversations/o_kpi1/reply", {"text": "您好，请讲"})
    agent.post("/console/api/conversations/o_kpi1/close")
    pusher.text("o_kpi1", "满意")
    agent.post("/console/api/conversations/o_kpi2/take")  # taken, never answered
    page = admin_staff.get("/admin/kpi?days=7").text
    assert "人工应答率" in page and "50.0%" in page  # 1 of 2 handovers answered
    assert "满意 1 / 评价 1" in page and "100.0%" in page
    assert "转人工 2 / 会话" in page
