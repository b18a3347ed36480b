"""Quality review (质检): dissatisfied and unresolved conversations (all) plus a sample are
queued, forbidden phrases flagged, the supervisor's feedback reaches the agent."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from core.db import transaction, utcnow
from core.models import Message
from core.models.console import ConversationRating, HandoverRecord
from desk import alerts, quality
from tests.desk.conftest import Crew


def handled(services: Any, openid: str, agent_id: int, replies: list[str],
            answered: bool = True, score: int | None = None) -> int:
    now = utcnow() - timedelta(hours=1)
    with transaction(services.sessions) as session:
        record = HandoverRecord(openid=openid, reason="human", status="ended", agent_id=agent_id,
                                requested_at=now, taken_at=now if answered else None,
                                first_response_at=now if answered else None,
                                ended_at=now + timedelta(minutes=30))
        session.add(record)
        session.flush()
        for i, text in enumerate(replies):
            session.add(Message(openid=openid, direction="out", msg_type="text", text=text,
                                sender="agent", status="sent",
                                created_at=now + timedelta(minutes=i + 1)))
        if score is not None:
            session.add(ConversationRating(openid=openid, handover_id=record.id,
                                           agent_id=agent_id, score=score, asked_at=now))
        return record.id


def test_forbidden_phrases_and_missing_service_language_are_flagged() -> None:
    flags = quality.check(["这个我不知道，你去问别人吧"])
    kinds = {(f["kind"], f["phrase"]) for f in flags}
    assert ("forbidden", "不知道") in kinds
    assert ("missing", "greeting") in kinds and ("missing", "closing") in kinds
    polite = quality.check(["您好，请您稍等，我帮您查一下。", "已为您登记，请问还有什么可以帮您？"])
    assert polite == [] and quality.auto_score(polite) == 100
    assert quality.auto_score(flags) < 60


def test_dissatisfied_and_unresolved_are_all_queued_plus_a_sample(
        services: Any, crew: Crew) -> None:
    config = dataclasses.replace(services.config, desk=dataclasses.replace(
        services.config.desk, quality_sample_share=0.0))
    unhappy = handled(services, "o_q1", crew.agent.id, ["不归我们管"], score=1)
    unanswered = handled(services, "o_q2", crew.agent.id, [], answered=False)
    fine = handled(services, "o_q3", crew.agent.id, ["您好，请稍等。请问还有什么可以帮您？"],
                   score=5)
    assert quality.collect(services.sessions, config) == 2
    queued = {r["handover_id"]: r for r in quality.pending(services.sessions)}
    assert queued[unhappy]["reason"] == "dissatisfied"
    assert queued[unanswered]["reason"] == "unresolved"
    assert fine not in queued
    assert ("forbidden", "不归我们管") in {(f["kind"], f["phrase"])
                                           for f in queued[unhappy]["flags"]}
    assert quality.collect(services.sessions, config) == 0  # never queued twice
    sampled = dataclasses.replace(config, desk=dataclasses.replace(
        config.desk, quality_sample_share=1.0))
    assert quality.collect(services.sessions, sampled) == 1


def test_the_supervisors_feedback_reaches_the_agent(
        services: Any, crew: Crew, make_staff_client: Any) -> None:
    handled(services, "o_q1", crew.agent.id, ["这是规定我也没办法"], score=1)
    boss = make_staff_client(crew.supervisor)
    page = boss.get("/console/quality")
    assert "忌语：这是规定我也没办法" in page.text
    [item] = quality.pending(services.sessions)
    detail = boss.get(f"/console/quality/{item['id']}").text
    assert "这是规定我也没办法" in detail
    boss.form(f"/console/quality/{item['id']}", {"score": "40",
                                                 "feedback": "请先安抚业主，再说明可以怎么办"})
    assert quality.pending(services.sessions) == []
    [alert] = alerts.unread(services.sessions, crew.agent.id)
    assert alert["kind"] == "quality"
    mine = make_staff_client(crew.agent).get("/console/quality/mine").text
    assert "请先安抚业主" in mine and "40" in mine
    assert make_staff_client(crew.agent).get("/console/quality").status_code == 403
