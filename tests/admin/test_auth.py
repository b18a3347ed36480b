"""Sign-in, roles and CSRF: residents' data only behind login, admin pages only for admins."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from admin.users import UserStore
from core.models.console import ConsoleUser
from tests.admin.conftest import PASSWORD, Staff, sign_in

PROTECTED = ("console.", "console_stream.", "admin.", "kb.", "knowledge.", "outreach.")
SAMPLE_ARGS = {"openid": "o_x", "message_id": "1", "number": "R20261118-0001",
               "faq_id": "fee_payment", "row_id": "1", "user_id": "1", "key": "1",
               "version": "1", "job_id": "1", "notice_id": "1", "kind": "csv", "token": "x"}


def protected_routes(flask_app: Any) -> list[tuple[str, str, str]]:
    """(endpoint, method, url) for every console and admin route but static files."""
    routes = []
    for rule in flask_app.url_map.iter_rules():
        if not rule.endpoint.startswith(PROTECTED) or rule.endpoint.endswith(".static"):
            continue
        url = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda m: SAMPLE_ARGS[m.group(1)], rule.rule)
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            routes.append((rule.endpoint, method, url))
    return routes


def test_there_are_routes_to_check(console_app: Any) -> None:
    endpoints = {endpoint for endpoint, _, _ in protected_routes(console_app)}
    assert {"console.page", "console.reply", "console_stream.events", "admin.kpis",
            "kb.save_faq", "admin.add_user", "kb.import_faq", "knowledge.hit_test",
            "knowledge.unanswered", "knowledge.start_training", "outreach.compose_notice",
            "outreach.push_menu"} <= endpoints


def test_every_console_and_admin_route_refuses_anonymous(console_app: Any) -> None:
    client = console_app.test_client()
    for endpoint, method, url in protected_routes(console_app):
        response = client.open(url, method=method)
        assert response.status_code in (302, 401), f"{method} {url} ({endpoint})"
        if response.status_code == 302:
            assert "/console/login" in response.headers["Location"]
        if "/api/" in url:
            assert response.status_code == 401 and response.json["error"] == "login_required"


def test_the_login_page_and_its_styles_are_public(console_app: Any) -> None:
    client = console_app.test_client()
    page = client.get("/console/login")
    assert page.status_code == 200 and "/console/static/console.css" in page.text
    assert client.get("/console/static/console.css").status_code == 200


def test_an_agent_cannot_reach_admin_routes(console_app: Any, agent: Staff) -> None:
    for _, method, url in protected_routes(console_app):
        if not url.startswith("/admin"):
            continue
        response = agent.post(url) if method == "POST" else agent.get(url)
        assert response.status_code == 403, f"{method} {url}"


def test_an_admin_reaches_admin_pages(admin_staff: Staff) -> None:
    for path in ("/admin/kpi", "/admin/canned", "/admin/users", "/admin/faq"):
        assert admin_staff.get(path).status_code == 200, path


def test_state_changes_need_the_csrf_token(agent: Staff) -> None:
    missing = agent.client.post("/console/api/presence", json={"presence": "away"})
    assert missing.status_code == 403 and missing.json["error"] == "csrf"
    wrong = agent.client.post("/console/api/presence", json={"presence": "away"},
                              headers={"X-CSRF-Token": "forged"})
    assert wrong.status_code == 403
    assert agent.post("/console/api/presence", {"presence": "away"}).status_code == 200
    assert agent.client.post("/console/logout").status_code == 403


def test_admin_forms_need_the_csrf_token(admin_staff: Staff, services: Any) -> None:
    data = {"username": "sneaky", "password": "long-enough-1", "role": "admin"}
    assert admin_staff.client.post("/admin/users", data=data).status_code == 403
    assert all(u.username != "sneaky" for u in UserStore(services.sessions).list())
    assert admin_staff.form("/admin/users", data).status_code == 302
    assert any(u.username == "sneaky" for u in UserStore(services.sessions).list())


def test_login_form_needs_the_csrf_token(console_app: Any, services: Any) -> None:
    UserStore(services.sessions).create("agent2", PASSWORD, "agent")
    client = console_app.test_client()
    response = client.post("/console/login", data={"username": "agent2", "password": PASSWORD})
    assert response.status_code == 403


def test_passwords_are_stored_hashed(services: Any) -> None:
    UserStore(services.sessions).create("agent3", PASSWORD, "agent")
    with services.sessions() as session:
        row = session.scalars(select(ConsoleUser)).one()
    assert PASSWORD not in row.password_hash and row.password_hash.startswith(("scrypt", "pbkdf2"))


def test_wrong_password_is_refused_then_login_is_throttled(
    console_app: Any, services: Any
) -> None:
    UserStore(services.sessions).create("agent4", PASSWORD, "agent")
    client = console_app.test_client()
    limit = services.config.console.login_max_failures
    for _ in range(limit):
        assert sign_in(client, "agent4", "wrong-password").status_code == 401
    locked = sign_in(client, "agent4", PASSWORD)
    assert locked.status_code == 429 and "登录失败次数过多" in locked.text
    services.redis.delete("wuye:login:fail:user:agent4", "wuye:login:fail:addr:127.0.0.1")
    assert sign_in(client, "agent4", PASSWORD).status_code == 302


def test_a_deactivated_user_is_signed_out_at_once(
    agent: Staff, services: Any
) -> None:
    assert agent.get("/console/api/queue").status_code == 200
    UserStore(services.sessions).set_active(agent.user.id, False)
    assert agent.get("/console/api/queue").status_code == 401


def test_logout_ends_the_session(agent: Staff) -> None:
    assert agent.form("/console/logout", {}).status_code == 302
    assert agent.get("/console/api/queue").status_code == 401


def test_login_redirect_stays_on_this_site(
    console_app: Any, make_staff: Callable[..., Staff], services: Any
) -> None:
    UserStore(services.sessions).create("agent5", PASSWORD, "agent")
    client = console_app.test_client()
    from tests.admin.conftest import csrf_of

    token = csrf_of(client.get("/console/login").text)
    response = client.post("/console/login?next=//evil.example/x",
                           data={"username": "agent5", "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302 and response.headers["Location"].endswith("/console")


@pytest.mark.parametrize("role", ["agent", "admin"])
def test_roles_are_checked_on_creation(services: Any, role: str) -> None:
    user = UserStore(services.sessions).create(f"new{role}", PASSWORD, role)
    assert user.role == role
