"""Console security: same-site redirects, revocable server-side sessions, idle timeout,
secure cookies, headers on every page, role changes, password resets, the audit log."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from admin.users import UserStore
from tests.admin.conftest import PASSWORD, Staff, csrf_of, sign_in
from tests.conftest import make_config


@pytest.mark.parametrize(
    "target",
    ["/%09/evil.invalid/", "//evil.invalid", "\\\\evil.invalid", "/\\evil.invalid",
     "https://evil.invalid/", "/%0d%0aSet-Cookie:x=1", "/ok\r\nLocation: //evil",
     "/%2F/evil.invalid", "javascript:alert(1)", "/\t/evil.invalid", " //evil.invalid"],
    ids=["tab-encoded", "double-slash", "backslashes", "slash-backslash", "absolute",
         "crlf-encoded", "crlf-raw", "encoded-slash", "javascript", "tab-raw", "space"],
)
def test_next_only_redirects_to_same_site_paths(
    console_app: Any, services: Any, target: str
) -> None:
    UserStore(services.sessions).create("agent_r", PASSWORD, "agent")
    client = console_app.test_client()
    token = csrf_of(client.get("/console/login", query_string={"next": target}).text)
    response = client.post("/console/login", query_string={"next": target},
                           data={"username": "agent_r", "password": PASSWORD,
                                 "csrf_token": token})
    assert response.status_code == 302
    assert response.headers["Location"] == "/console"


def test_next_keeps_a_same_site_path(console_app: Any, services: Any) -> None:
    UserStore(services.sessions).create("agent_s", PASSWORD, "agent")
    client = console_app.test_client()
    token = csrf_of(client.get("/console/login").text)
    response = client.post("/console/login", query_string={"next": "/admin/kpi?days=7"},
                           data={"username": "agent_s", "password": PASSWORD,
                                 "csrf_token": token})
    assert response.headers["Location"] == "/admin/kpi?days=7"


def _cookie(client: Any) -> str:
    cookie = client.get_cookie("wuye_session")
    assert cookie is not None
    return str(cookie.value)


def test_logout_revokes_the_session_cookie(console_app: Any, agent: Staff) -> None:
    stolen = _cookie(agent.client)
    assert agent.form("/console/logout", {}).status_code == 302
    replay = console_app.test_client()
    replay.set_cookie("wuye_session", stolen)
    assert replay.get("/console/api/queue").status_code == 401


def test_sign_in_issues_a_fresh_session_id(console_app: Any, services: Any) -> None:
    UserStore(services.sessions).create("agent_f", PASSWORD, "agent")
    client = console_app.test_client()
    client.get("/console/login")
    before = _cookie(client)
    assert sign_in(client, "agent_f").status_code == 302
    assert _cookie(client) != before


def test_a_forged_cookie_opens_nothing(console_app: Any, admin_staff: Staff) -> None:
    """The cookie is only a random id; signing a made-up one with the key is not enough."""
    from itsdangerous import Signer

    forged = Signer(console_app.secret_key, salt="wuye-session").sign(b"made-up-id").decode()
    client = console_app.test_client()
    client.set_cookie("wuye_session", forged)
    assert client.get("/admin/users").status_code == 302


def test_an_admin_ends_every_session_of_a_user(
    make_staff: Callable[..., Staff], services: Any
) -> None:
    boss = make_staff("boss", "admin")
    agent = make_staff("agent_x", "agent")
    assert agent.get("/console/api/queue").status_code == 200
    response = boss.form(f"/admin/users/{agent.user.id}/sessions/revoke", {})
    assert response.status_code == 302
    assert agent.get("/console/api/queue").status_code == 401
    assert boss.get("/admin/users").status_code == 200  # the admin's own session lives on


def test_idle_sessions_expire(
    tmp_path: Path, sqlite_url: str, redis_client: Any, redis_url: str, model_dir: Path,
    fake_wechat: Any,
) -> None:
    import time

    from wuye.app import create_app
    from wuye.services import build_services

    config = make_config(tmp_path, database={"url": sqlite_url}, redis={"url": redis_url},
                         nlu={"model_dir": str(model_dir)},
                         wechat={"api_base": fake_wechat.base_url},
                         console={"idle_minutes": 1})
    services = build_services(config, migrate=False)
    try:
        app = create_app(config, services=services, background=False)
        # A minute is the smallest setting; the test shortens it on the live interface.
        app.session_interface.idle_seconds = 3  # type: ignore[attr-defined]
        UserStore(services.sessions).create("agent_i", PASSWORD, "agent")
        client = app.test_client()
        assert sign_in(client, "agent_i").status_code == 302
        for _ in range(3):  # used every 1.5 s for 4.5 s: longer than the idle limit
            time.sleep(1.5)
            assert client.get("/console/api/queue").status_code == 200
        time.sleep(4)
        assert client.get("/console/api/queue").status_code == 401
    finally:
        services.close()


def test_secure_cookie_setting(
    tmp_path: Path, sqlite_url: str, model_dir: Path, fake_wechat: Any
) -> None:
    from wuye.app import create_app
    from wuye.services import build_services

    config = make_config(tmp_path, database={"url": sqlite_url},
                         redis={"url": f"memory://secure-{tmp_path.name}"},
                         nlu={"model_dir": str(model_dir)},
                         wechat={"api_base": fake_wechat.base_url},
                         console={"secure_cookie": True})
    services = build_services(config, migrate=False)
    try:
        app = create_app(config, services=services, background=False)
        UserStore(services.sessions).create("agent_c", PASSWORD, "agent")
        client = app.test_client()
        token = csrf_of(client.get("/console/login", base_url="https://localhost").text)
        response = client.post("/console/login", base_url="https://localhost",
                               data={"username": "agent_c", "password": PASSWORD,
                                     "csrf_token": token})
        cookie = response.headers["Set-Cookie"]
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    finally:
        services.close()


def test_security_headers_on_every_page(
    console_app: Any, admin_staff: Staff, pusher: Any
) -> None:
    anonymous = console_app.test_client()
    pages = [anonymous.get("/console/login"), anonymous.get("/healthz"),
             anonymous.get("/console"), admin_staff.get("/admin/users"),
             admin_staff.get("/admin/audit"), admin_staff.get("/console"),
             anonymous.get("/no-such-page")]
    for page in pages:
        csp = page.headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
        assert "unsafe-inline" not in csp
        assert page.headers["X-Frame-Options"] == "DENY"
        assert page.headers["Referrer-Policy"] == "same-origin"
    console = admin_staff.get("/console").text
    assert "<script>" not in console and " onchange=" not in admin_staff.get("/admin/kpi").text


def test_an_admin_changes_a_role_and_it_is_audited(
    make_staff: Callable[..., Staff], services: Any
) -> None:
    boss = make_staff("boss", "admin")
    agent = make_staff("agent_p", "agent")
    assert agent.get("/admin/users").status_code == 403
    assert boss.form(f"/admin/users/{agent.user.id}/role", {"role": "admin"}).status_code == 302
    assert UserStore(services.sessions).get(agent.user.id).role == "admin"
    # The old session ended with the change; signing in again brings the new rights.
    assert agent.get("/console/api/queue").status_code == 401
    assert sign_in(agent.client, "agent_p").status_code == 302
    assert agent.get("/admin/users").status_code == 200
    page = boss.get("/admin/audit").text
    assert "修改角色" in page and "agent_p" in page and "role=admin" in page


def test_an_admin_cannot_change_their_own_role(admin_staff: Staff, services: Any) -> None:
    admin_staff.form(f"/admin/users/{admin_staff.user.id}/role", {"role": "agent"})
    assert UserStore(services.sessions).get(admin_staff.user.id).role == "admin"


def test_password_reset_signs_the_user_out_and_the_new_password_works(
    make_staff: Callable[..., Staff], services: Any
) -> None:
    boss = make_staff("boss", "admin")
    agent = make_staff("agent_q", "agent")
    new_password = "another-long-pass-7"
    assert boss.form(f"/admin/users/{agent.user.id}/password",
                     {"password": new_password}).status_code == 302
    assert agent.get("/console/api/queue").status_code == 401
    assert sign_in(agent.client, "agent_q", PASSWORD).status_code == 401
    assert sign_in(agent.client, "agent_q", new_password).status_code == 302
    boss.form(f"/admin/users/{agent.user.id}/password", {"password": "short"})
    assert sign_in(agent.client, "agent_q", new_password).status_code == 302


def test_every_admin_action_is_in_the_audit_log(
    make_staff: Callable[..., Staff], services: Any
) -> None:
    from admin.audit import recent

    boss = make_staff("boss", "admin")
    agent = make_staff("agent_a", "agent")
    boss.form("/admin/users", {"username": "newbie", "password": PASSWORD, "role": "agent"})
    boss.form(f"/admin/users/{agent.user.id}/active", {"active": "0"})
    boss.form(f"/admin/users/{agent.user.id}/active", {"active": "1"})
    boss.form(f"/admin/users/{agent.user.id}/role", {"role": "admin"})
    boss.form(f"/admin/users/{agent.user.id}/password", {"password": "yet-another-pass-3"})
    boss.form(f"/admin/users/{agent.user.id}/sessions/revoke", {})
    boss.form("/admin/canned", {"shortcut": "/测试", "text": "您好，请稍候。"})
    boss.form("/admin/faq/new", {"id": "audit_faq", "question": "测试问题", "answer": "测试答案",
                                 "enabled": "1"})
    boss.form("/admin/faq/audit_faq/enabled", {"enabled": "0"})
    entries = recent(services.sessions)
    actions = [e.action for e in reversed(entries)]
    assert actions == ["user.create", "user.deactivate", "user.activate", "user.role",
                       "user.password", "user.sessions", "canned.save", "faq.save",
                       "faq.enabled"]
    assert all(e.actor == "boss" and e.address == "127.0.0.1" for e in entries)
    assert agent.get("/console/api/queue").status_code == 401  # signed out by the changes
