"""Console fixes of the service desk issue: emergencies pinned first, unread counts,
presence that expires, Chinese labels, send errors staff can act on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import update

from core.db import transaction, utcnow
from core.models import Resident
from core.models.console import ConsoleUser, HandoverRecord
from tests.admin.conftest import Staff
from tests.admin.test_console import conv, drain, queued

OPENID = "o_console"


def test_emergencies_are_pinned_first(pusher: Any, agent: Staff, services: Any) -> None:
    queued(pusher, "o_first")
    queued(pusher, "o_second")
    with transaction(services.sessions) as session:
        session.add(Resident(openid="o_sos"))
        session.flush()
        session.add(HandoverRecord(openid="o_sos", reason="emergency", status="waiting",
                                   requested_at=utcnow()))
    waiting = agent.get("/console/api/queue").json["waiting"]
    assert [i["openid"] for i in waiting] == ["o_sos", "o_first", "o_second"]


def test_unread_counts_for_my_conversations(pusher: Any, agent: Staff) -> None:
    queued(pusher)
    agent.post(f"{conv()}/take")
    agent.get(conv())  # on screen: read
    assert agent.get("/console/api/queue").json["mine"][0]["unread"] == 0
    pusher.text(OPENID, "我家漏水了")
    pusher.text(OPENID, "在吗")
    assert agent.get("/console/api/queue").json["mine"][0]["unread"] == 2
    agent.get(conv())
    assert agent.get("/console/api/queue").json["mine"][0]["unread"] == 0


def test_presence_expires_when_the_page_is_gone(
        agent: Staff, make_staff: Any, services: Any) -> None:
    other = make_staff("agent2")
    agents = {a["id"]: a for a in agent.get("/console/api/queue").json["agents"]}
    assert agents[other.user.id]["presence"] == "online"
    with transaction(services.sessions) as session:  # that page stopped reporting 5 min ago
        session.execute(update(ConsoleUser).where(ConsoleUser.id == other.user.id)
                        .values(presence_at=utcnow() - timedelta(minutes=5)))
    agents = {a["id"]: a for a in agent.get("/console/api/queue").json["agents"]}
    assert agents[other.user.id]["presence"] == "offline"
    other.post("/console/api/presence", {"presence": "online"})  # the heartbeat
    agents = {a["id"]: a for a in agent.get("/console/api/queue").json["agents"]}
    assert agents[other.user.id]["presence"] == "online"
    gone = other.client.post("/console/api/presence/offline", data={"csrf_token": other.csrf})
    assert gone.status_code == 200
    agents = {a["id"]: a for a in agent.get("/console/api/queue").json["agents"]}
    assert agents[other.user.id]["presence"] == "offline"


def test_states_and_intents_are_shown_in_chinese(pusher: Any, agent: Staff) -> None:
    pusher.text(OPENID, "物业费怎么交")
    queued(pusher)
    detail = agent.get(conv()).json
    intents = {m["nlu"]["intent_name"] for m in detail["history"] if m.get("nlu")}
    assert "咨询" in intents and "转人工" in intents
    agent.post(f"{conv()}/take")
    agent.post(f"{conv()}/tickets", {"type": "repair", "text": "卫生间漏水", "room": "3栋2单元502"})
    [ticket] = agent.get(conv()).json["resident"]["tickets"]
    assert (ticket["state_name"], ticket["type_name"]) == ("已派单", "报修")
    page = agent.get("/console").text
    assert "console-labels" in page and "已完成待确认" in page


def test_send_errors_are_explained_in_words_staff_can_act_on(
        pusher: Any, agent: Staff, services: Any, fake_wechat: Any) -> None:
    queued(pusher)
    agent.post(f"{conv()}/take")
    fake_wechat.fail_next(1, errcode=45015)
    agent.post(f"{conv()}/reply", {"text": "您好，请问还有什么可以帮您？"})
    drain(services)
    last = agent.get(conv()).json["history"][-1]
    assert last["status"] == "failed"
    assert "48小时" in last["error_text"] and "response out of time" not in last["error_text"]
