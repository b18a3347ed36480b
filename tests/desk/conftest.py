"""Desk fixtures: the whole services on SQLite and PostgreSQL, department staff, residents
whose 48-hour window is open, tickets, and a loopback duty-paging gateway."""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

from admin.users import User, UserStore
from core.config import Config
from core.db import transaction, utcnow
from core.models import Message, Resident
from desk.staff import Staff
from handlers.tickets.rooms import parse_room
from handlers.tickets.service import NewTicket

PASSWORD = "correct-horse-battery-9"


@dataclass
class Crew:
    head: User
    worker: User
    other_worker: User
    cleaner: User
    supervisor: User
    agent: User


@pytest.fixture()
def crew(services: Any) -> Crew:
    """工程部: a head and two workers; 环境部: a cleaner; a supervisor; an agent."""
    users = UserStore(services.sessions)
    staff = Staff(services.sessions)
    made = {}
    for name, role, department, head in (
            ("zhang", "staff", "工程部", True), ("li", "staff", "工程部", False),
            ("zhao", "staff", "工程部", False), ("wu", "staff", "环境部", False),
            ("boss", "admin", None, False), ("wang", "agent", None, False)):
        made[name] = users.create(name, PASSWORD, role, name.upper())
        if department:
            staff.assign(made[name].id, department, head)
    return Crew(made["zhang"], made["li"], made["zhao"], made["wu"], made["boss"],
                made["wang"])


def open_window(services: Any, openid: str) -> None:
    """The resident wrote just now, so customer-service messages may reach them."""
    with transaction(services.sessions) as session:
        if session.get(Resident, openid) is None:
            session.add(Resident(openid=openid, last_inbound_at=utcnow()))
        session.add(Message(openid=openid, direction="in", msg_type="text", text="你好",
                            sender="resident", status="received"))


def new_ticket(services: Any, text: str = "卫生间下水道堵了", kind: str = "repair",
               openid: str = "o_resident", now: datetime | None = None,
               room: str = "3栋2单元502", phone: str = "13800138000",
               photos: list[Any] | None = None) -> str:
    view = services.deps.tickets.create(NewTicket(
        type=kind, openid=openid, text=text, summary=text, room=parse_room(room),
        phone=phone, photos=photos or []), now=now)
    return str(view.number)


class PagingGateway:
    """The SMS/voice duty-paging gateway on loopback: records every call it gets."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []
        self.fail_next = 0
        self._server = make_server("127.0.0.1", 0, self._app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}/page"

    def _app(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        if self.fail_next:
            self.fail_next -= 1
            return Response("busy", status=503)(environ, start_response)
        self.calls.append(json.loads(request.get_data() or b"{}"))
        return Response('{"ok": true}', content_type="application/json")(environ,
                                                                         start_response)

    def __enter__(self) -> PagingGateway:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


@pytest.fixture()
def paging() -> Iterator[PagingGateway]:
    with PagingGateway() as gateway:
        yield gateway


@pytest.fixture()
def app_config(app_config: Config, paging: PagingGateway) -> Config:
    """The suite's app settings plus a dispatch template and the loopback paging gateway."""
    desk = dataclasses.replace(app_config.desk, dispatch_template_id="tpl-dispatch",
                               paging_url=paging.url, paging_timeout_seconds=2.0)
    return dataclasses.replace(app_config, desk=desk)


@dataclass
class StaffClient:
    """A signed-in browser session for one of the crew (test client + CSRF token)."""

    client: Any
    csrf: str

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, **kwargs)

    def form(self, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
        return self.client.post(path, data={**data, "csrf_token": self.csrf}, **kwargs)

    def post(self, path: str, json: dict[str, Any] | None = None) -> Any:
        return self.client.post(path, json=json or {}, headers={"X-CSRF-Token": self.csrf})


@pytest.fixture()
def make_staff_client(app: Any) -> Any:
    from tests.admin.conftest import csrf_of, sign_in

    def make(user: User) -> StaffClient:
        client = app.test_client()
        assert sign_in(client, user.username, PASSWORD).status_code == 302
        page = client.get("/console/tickets").text
        return StaffClient(client, csrf_of(page))

    return make
