"""Hit test and the unanswered queue: what the bot missed, grouped; fixed from the queue."""

from __future__ import annotations

import json
from typing import Any

from knowledge_loop.unanswered import UnansweredQueue
from tests.admin.conftest import Staff

LAUNDRY = ["小区有没有洗衣房", "请问小区洗衣房在什么地方", "小区有洗衣房吗"]
CAR_WASH = ["小区里有自助洗车吗", "哪里可以自助洗车"]


def test_hit_test_shows_the_match_or_why_nothing_matched(admin_staff: Staff) -> None:
    page = admin_staff.get("/admin/hit-test?text=物业费怎么交").text
    assert 'data-outcome="answer"' in page and "fee_payment" in page
    assert "faq_answer_threshold" in page
    missed = admin_staff.get("/admin/hit-test?text=小区有没有洗衣房").text
    assert 'data-answer=""' in missed and "为什么没有命中" in missed
    assert "低于回答阈值" in missed or "可回答性检查未通过" in missed
    data = admin_staff.get("/admin/api/hit-test?text=小区有没有洗衣房").json
    assert data["answer_id"] is None and data["reasons"] and data["candidates"]
    assert data["thresholds"]["faq_answer_threshold"] > 0
    assert admin_staff.get("/admin/api/hit-test?text=").status_code == 400


def test_missed_questions_are_grouped_and_fixed_from_the_queue(
    admin_staff: Staff, services: Any, pusher: Any
) -> None:
    for n, text in enumerate(LAUNDRY + CAR_WASH):
        pusher.text(f"o_q{n}", text)
    pusher.text("o_q9", "物业费怎么交")  # answered: not in the queue
    queue = UnansweredQueue(services.sessions, services.config)
    groups = queue.groups()
    assert [g.count for g in groups] == [3, 2]
    assert set(groups[0].examples) == set(LAUNDRY)
    page = admin_staff.get("/admin/unanswered").text
    assert "小区有没有洗衣房" in page and "3 次" in page
    assert page.count('class="card group"') == 2

    # A new entry from the laundry group: the editor opens prefilled, saving resolves it.
    ids = ",".join(map(str, groups[0].ids))
    editor = admin_staff.form("/admin/unanswered/new", {"ids": ids})
    assert editor.status_code == 302 and "question=" in editor.headers["Location"]
    prefilled = admin_staff.get(editor.headers["Location"]).text
    assert "请问小区洗衣房在什么地方" in prefilled
    admin_staff.form("/admin/faq/new", {
        "id": "laundry", "question": "小区有洗衣房吗",
        "similar_questions": "\n".join(LAUNDRY), "group": ids, "enabled": "1",
        "answer": "您好，自助洗衣房在3栋负一层。请问还有什么可以帮您？"})
    assert [g.count for g in queue.groups()] == [2]
    assert pusher.text("o_next", "小区里有没有洗衣房呀").text.startswith("您好，自助洗衣房")

    # The car-wash group as similar questions of an existing entry.
    wash = queue.groups()[0]
    admin_staff.form("/admin/unanswered/add", {"ids": ",".join(map(str, wash.ids)),
                                               "faq_id": "laundry"})
    assert set(CAR_WASH) <= set(services.faqs.get("laundry").similar_questions)
    assert queue.groups() == []
    assert "目前没有未解决的问题" in admin_staff.get("/admin/unanswered").text


def test_an_agents_reply_becomes_an_entrys_answer(
    admin_staff: Staff, agent: Staff, services: Any, pusher: Any
) -> None:
    pusher.text("o_ag", "转人工")
    pusher.text("o_ag", "小区有没有洗衣房")
    agent.post("/console/api/conversations/o_ag/take")
    reply = "您好，小区自助洗衣房在3栋负一层，扫码使用。"
    agent.post("/console/api/conversations/o_ag/reply", {"text": reply})
    queue = UnansweredQueue(services.sessions, services.config)
    group = queue.groups()[0]
    page = admin_staff.get(f"/admin/unanswered/{group.key}").text
    assert reply in page
    message_id = queue.agent_replies(group.items)[0].id
    from_console = admin_staff.get(f"/admin/replies/{message_id}").text  # the console's link
    assert reply in from_console and "小区有没有洗衣房" in from_console
    assert 'data-admin="1"' in admin_staff.get("/console").text
    assert 'data-admin="0"' in agent.get("/console").text
    admin_staff.form(f"/admin/replies/{message_id}/answer",
                     {"faq_id": "hotline", "ids": ",".join(map(str, group.ids))})
    assert services.faqs.get("hotline").answer == reply
    assert services.faqs.history("hotline")[0].action == "agent_reply"
    assert queue.groups() == []


def test_cli_lists_open_groups_as_json(cli_env: Any, capsys: Any) -> None:
    from core.config import load_config
    from core.db import make_engine, make_session_factory, upgrade
    from core.models import Message
    from wuye.cli import main

    config = load_config()
    upgrade(config.database_url)
    engine = make_engine(config.database_url)
    sessions = make_session_factory(engine)
    with sessions.begin() as session:
        for n, text in enumerate(LAUNDRY):
            session.add(Message(openid=f"o{n}", direction="in", msg_type="text", text=text,
                                status="processed", nlu={"intent": "faq", "faq_id": None,
                                                         "confidence": 0.9}))
    engine.dispose()
    assert main(["unanswered", "list", "--json"]) == 0
    groups = json.loads(capsys.readouterr().out)
    assert len(groups) == 1 and groups[0]["count"] == 3
    assert groups[0]["reasons"] == {"知识库无对应问题": 3}
