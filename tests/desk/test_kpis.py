"""Every KPI of DOMAIN.md from known records, by period and breakdown; CSV and XLSX
exports; the KPI page with charts and the printable monthly report."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from typing import Any

from openpyxl import load_workbook

from admin.users import UserStore
from communities.directory import Communities
from core.db import transaction
from core.models import Conversation, Message, Resident, Ticket
from core.models.console import ConversationRating, HandoverRecord
from core.models.desk import SlaBreach
from desk import export, kpis
from desk.kpis import adjusted
from tests.desk.conftest import Crew, new_ticket

DAY = datetime.fromisoformat("2026-11-18T10:00:00+08:00")


def seed(services: Any, agent_id: int) -> dict[str, int]:
    """7 handovers (6 taken, 5 answered), 10 conversations, 5 ratings asked (4 answered),
    4 consultations (3 answered, 2 in time)."""
    communities = Communities(services.sessions)
    south = communities.add("south", "南苑")
    with transaction(services.sessions) as session:
        for i in range(10):
            openid = f"o_k{i}"
            session.add(Resident(openid=openid, community_id=south.id if i < 2 else None))
            session.flush()
            conversation = Conversation(openid=openid, started_at=DAY)
            session.add(conversation)
            session.flush()
            if i < 7:
                answered = DAY + timedelta(minutes=3) if i < 5 else None
                session.add(HandoverRecord(
                    openid=openid, conversation_id=conversation.id, reason="human",
                    requested_at=DAY, status="ended", agent_id=agent_id if i < 6 else None,
                    taken_at=DAY + timedelta(minutes=1) if i < 6 else None,
                    first_response_at=answered, ended_at=DAY + timedelta(minutes=20)))
            if i < 5:
                session.add(ConversationRating(openid=openid, agent_id=agent_id, asked_at=DAY,
                                               score=[5, 5, 4, 1, None][i]))
        for i, reply_minutes in enumerate((1, 5, 50, None)):
            openid = f"o_k{i}"
            session.add(Message(openid=openid, direction="in", msg_type="text", text="物业费多少",
                                sender="resident", nlu={"intent": "faq"}, created_at=DAY))
            session.flush()
            if reply_minutes is not None:
                session.add(Message(openid=openid, direction="out", msg_type="text", text="您好",
                                    sender="bot", status="sent",
                                    created_at=DAY + timedelta(minutes=reply_minutes)))
                session.flush()
    return {"south": south.id}


def test_every_kpi_from_known_records(services: Any, crew: Crew) -> None:
    ids = seed(services, crew.agent.id)
    first = new_ticket(services, "保安态度很差", kind="complaint", openid="o_k1", now=DAY)
    new_ticket(services, "保安态度太差了又不理人", kind="complaint", openid="o_k1",
               now=DAY + timedelta(hours=2))
    other = new_ticket(services, "楼下半夜装修太吵了", kind="complaint", openid="o_k2", now=DAY)
    leak = new_ticket(services, "卫生间漏水", openid="o_k3", now=DAY)
    tickets = services.deps.tickets
    for number in (first, other):
        for state in ("accepted", "resolved", "closed"):
            tickets.transition(number, state, "staff:li", now=DAY + timedelta(hours=3))
    tickets.transition(leak, "accepted", "staff:li", now=DAY + timedelta(minutes=30))
    with transaction(services.sessions) as session:
        ticket = session.query(Ticket).filter_by(number=leak).one()
        ticket.community_id = ids["south"]
        session.add(SlaBreach(ticket_id=ticket.id, kind="resolve", department="工程部",
                              priority="P3", due_at=DAY, detected_at=DAY + timedelta(hours=1),
                              community_id=ids["south"]))
    names = UserStore(services.sessions).names()
    report = kpis.report(services.sessions, services.config, date(2026, 11, 1),
                         date(2026, 11, 30), "week", names, {ids["south"]: "南苑"})
    totals = report["totals"]
    assert totals["human_answer_rate"] == 5 / 7  # answered, not merely taken (6)
    assert totals["self_service_rate"] == 3 / 10
    assert totals["satisfaction_rate"] == 3 / 4
    assert totals["survey_response_rate"] == 4 / 5
    assert totals["consult_reply_rate"] == 3 / 4
    assert totals["timely_reply_rate"] == 2 / 4  # within 30 minutes
    assert totals["complaint_handling_rate"] == 2 / 3
    assert totals["repeat_complaint_rate"] == 1 / (3 - 1)
    assert totals["callback_rate_complaint"] == 0.0
    assert totals["first_response_minutes"] == 3.0
    assert totals["ticket_first_response_minutes"] == round((180 * 2 + 30) / 3, 1)
    assert totals["sla_breaches"] == 1
    assert report["sla_breaches"] == [{"department": "工程部", "priority": "P3", "breaches": 1}]
    [agent] = report["by_agent"]
    assert (agent["agent"], agent["handovers"], agent["answered"]) == ("WANG", 6, 5)
    departments = {d["department"]: d for d in report["by_department"]}
    assert departments["工程部"]["sla_breaches"] == 1
    assert {t["type"] for t in report["by_type"]} == {"complaint", "repair"}
    [south] = report["by_community"]
    assert south["sla_breaches"] == 1 and south["counts"]["tickets"] == 1
    assert [s["period"] for s in report["series"]][:3] == ["2026-W44", "2026-W45", "2026-W46"]
    week = next(s for s in report["series"] if s["period"] == "2026-W47")
    assert week["human_answer_rate"] == 5 / 7

    csv_text = export.to_csv(report)
    assert "人工应答率(%)" in csv_text and "71.4" in csv_text
    book = load_workbook(io.BytesIO(export.to_xlsx(report)))
    assert book.sheetnames[:3] == ["指标", "按客服", "按部门"]
    assert book["按客服"]["A2"].value == "WANG"


def test_satisfaction_is_lowered_when_too_few_answer_the_survey() -> None:
    assert adjusted(0.95, 0.80) == 0.95
    assert adjusted(0.95, 0.60) == 0.93  # 10 points below 70%: 2 points off
    assert adjusted(None, 0.2) is None


def test_kpi_page_exports_and_monthly_report(services: Any, crew: Crew,
                                             make_staff_client: Any) -> None:
    seed(services, crew.agent.id)
    boss = make_staff_client(crew.supervisor)
    page = boss.get("/console/kpi?from=2026-11-01&to=2026-11-30&grain=day")
    assert page.status_code == 200
    assert "人工应答率" in page.text and "71.4%" in page.text and "<svg" in page.text
    csv_response = boss.get("/console/kpi.csv?from=2026-11-01&to=2026-11-30")
    assert csv_response.mimetype == "text/csv" and "满意率" in csv_response.text
    xlsx = boss.get("/console/kpi.xlsx?from=2026-11-01&to=2026-11-30")
    assert load_workbook(io.BytesIO(xlsx.data))["指标"]["A1"].value == "周期"
    report = boss.get("/console/report?month=2026-11")
    assert "2026年11月服务质量分析报告" in report.text and "@media print" not in report.text
    assert make_staff_client(crew.agent).get("/console/kpi").status_code == 403
