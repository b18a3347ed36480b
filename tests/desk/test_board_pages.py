"""The ticket board and ticket page, the worker's mobile page and WeChat bind (OAuth
against the loopback fake), and residents' photos fetched through WeChat's media API."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

import requests

from admin import desk_wiring
from core.db import transaction
from core.models import Ticket
from desk.staff import Staff
from tests.desk.conftest import Crew, new_ticket, open_window
from tests.desk.test_sla import T0

PNG = bytes.fromhex("89504e470d0a1a0a") + b"worker-photo"


def test_board_filters_and_searches(services: Any, crew: Crew, make_staff_client: Any) -> None:
    leak = new_ticket(services, "卫生间漏水", room="3栋2单元502", phone="13800138000")
    lift = new_ticket(services, "电梯困人了", room="5栋1单元101", phone="13900139111")
    noise = new_ticket(services, "楼下半夜装修太吵", kind="complaint", room="3栋1单元201",
                       phone="13700137222")
    desk_wiring.work(services).dispatch(leak, crew.worker.id,
                                        desk_wiring.actor(services, crew.head))
    head = make_staff_client(crew.head)

    def numbers(query: str) -> list[str]:
        page = head.get(f"/console/api/board?{query}").get_json()
        return [t["number"] for t in page["tickets"]]

    assert numbers("")[0] == lift  # the emergency first
    assert set(numbers("")) == {leak, lift, noise}
    assert numbers("priority=P1") == [lift]
    assert numbers("type=complaint") == [noise]
    assert numbers("department=安保部") == [noise] or numbers("department=客服部") == [noise]
    assert set(numbers("place=3栋")) == {leak, noise}
    assert numbers("q=8000") == [leak]  # last 4 digits of the phone
    assert numbers(f"q={lift[-6:]}") == [lift]
    assert numbers("q=5栋1单元101") == [lift]
    assert numbers(f"assignee={crew.worker.id}") == [leak]
    assert numbers("state=dispatched") and numbers("state=closed") == []
    assert numbers("from=2000-01-01&to=2000-01-02") == []
    page = head.get("/console/tickets?state=open").text
    assert "电梯困人了" in page and "P1 紧急" in page and "已派单" in page and "剩余" in page
    new_ticket(services, "楼道灯坏了", now=T0)
    assert len(numbers("overdue=1")) == 1
    assert "超时" in head.get("/console/tickets?overdue=1").text


def test_ticket_page_timeline_notes_preview_and_photos(
        services: Any, crew: Crew, make_staff_client: Any, fake_wechat: Any) -> None:
    open_window(services, "o_resident")
    fake_wechat.add_media("media_leak_1", PNG, "image/png")
    number = new_ticket(services, photos=[{"url": "http://x/leak.jpg", "media_id": "media_leak_1"}])
    agent = make_staff_client(crew.agent)
    page = agent.get(f"/console/tickets/{number}").text
    assert "受理" in page and "派至工程部" in page and "业主照片" in page
    [photo_id] = [p.split('"')[0] for p in page.split("/console/media/")[1:]]
    assert agent.get(f"/console/media/{photo_id}").data == PNG
    preview = agent.get(f"/console/api/tickets/{number}/preview?state=accepted&tell=明早九点上门")
    assert "已受理" in preview.get_json()["text"] and "明早九点上门" in preview.get_json()["text"]
    agent.form(f"/console/tickets/{number}/note", {"note": "业主不在家时找物业前台拿钥匙"})
    agent.form(f"/console/tickets/{number}/state",
               {"state": "accepted", "note": "安排李师傅", "tell": "明早九点上门"})
    services.outbox.run_once()
    told = [b["text"]["content"] for b in fake_wechat.sent_to("o_resident")]
    assert any("明早九点上门" in t for t in told)
    assert not any("钥匙" in t or "李师傅" in t for t in told)
    page = agent.get(f"/console/tickets/{number}").text
    assert "内部备注" in page and "告知业主：明早九点上门" in page and "已受理" in page
    assert agent.get("/console/tickets/BX00000000-0000").status_code == 404
    assert agent.get("/console/media/99999").status_code == 404


def test_the_worker_page_accepts_starts_and_completes_with_a_photo(
        services: Any, crew: Crew, make_staff_client: Any, fake_wechat: Any) -> None:
    open_window(services, "o_resident")
    number = new_ticket(services)
    li = make_staff_client(crew.worker)
    assert li.get("/console").headers["Location"].endswith("/console/worker")
    home = li.get("/console/worker").text
    assert number in home and 'name="viewport"' in home
    li.form(f"/console/worker/tickets/{number}/accept", {})
    li.form(f"/console/worker/tickets/{number}/start", {})
    li.form(f"/console/worker/tickets/{number}/note",
            {"note": "已关闭总阀", "photo": (_file(), "before.png")},
            content_type="multipart/form-data")
    done = li.form(f"/console/worker/tickets/{number}/complete",
                   {"note": "更换了密封圈", "photo": (_file(), "after.png")},
                   content_type="multipart/form-data")
    assert done.status_code == 302
    assert services.deps.tickets.get(number).state == "resolved"
    page = li.get(f"/console/worker/tickets/{number}").text
    assert page.count("现场照片") == 2 and "已完成待确认" in page
    services.outbox.run_once()
    assert any("满意" in b["text"]["content"] for b in fake_wechat.sent_to("o_resident"))
    bad = li.form(f"/console/worker/tickets/{number}/note",
                  {"photo": (_file(b"not an image"), "x.txt")},
                  content_type="multipart/form-data", follow_redirects=True)
    assert "只能上传" in bad.text


def _file(data: bytes = PNG) -> Any:
    import io

    return io.BytesIO(data)


def test_a_worker_binds_wechat_through_oauth_and_gets_dispatches_there(
        services: Any, crew: Crew, make_staff_client: Any, fake_wechat: Any) -> None:
    li = make_staff_client(crew.worker)
    start = li.get("/console/worker/wechat/bind")
    authorize = start.headers["Location"]
    assert authorize.startswith(fake_wechat.base_url + "/connect/oauth2/authorize")
    back = requests.get(authorize.split("#")[0] + "&fake_openid=o_li_wechat",
                        allow_redirects=False, timeout=5).headers["Location"]
    parts = urlsplit(back)
    assert li.get(f"{parts.path}?{parts.query}").status_code == 302
    assert Staff(services.sessions).wechat_openid(crew.worker.id) == "o_li_wechat"
    assert "微信已绑定" in li.get("/console/worker").text
    assert "失效" in li.get(f"{parts.path}?{parts.query}", follow_redirects=True).text

    number = new_ticket(services)
    head = make_staff_client(crew.head)
    page = head.get(f"/console/tickets/{number}").text
    def named(name: str) -> bool:  # a name, not two letters inside the CSRF token
        return re.search(rf"(?<![A-Za-z0-9_-]){name}(?![A-Za-z0-9_-])", page) is not None
    assert named("LI") and not named("WU")  # only 工程部 staff to choose from
    head.form(f"/console/tickets/{number}/dispatch", {"worker_id": str(crew.worker.id)})
    services.outbox.run_once()
    [sent] = fake_wechat.sent_to("o_li_wechat")
    assert sent["template_id"] == "tpl-dispatch" and number in sent["url"]
    assert number in li.get("/console/worker").text
    with transaction(services.sessions) as session:
        assert session.query(Ticket).filter_by(number=number).one().assignee_id == crew.worker.id


def test_department_staff_do_not_read_residents_chats(
        services: Any, crew: Crew, make_staff_client: Any) -> None:
    open_window(services, "o_resident")
    number = new_ticket(services)
    li = make_staff_client(crew.worker)
    assert li.get("/console/api/queue").status_code == 403
    assert li.get("/console/api/conversations/o_resident").status_code == 403
    page = li.get(f"/console/tickets/{number}").text
    assert "无会话记录" in page and "你好" not in page
    assert li.get("/console/worker/alerts").get_json() == {"alerts": []}
