"""Signing in to the console: sessions, roles, CSRF on every change, login throttling.

Every console and admin route is guarded at the blueprint level (`guard`), so a
new route cannot forget its check. Sessions live in Redis (admin/sessions.py) and
hold the user id; the account is re-read on every request, so a deactivated user
is out at once. Failed logins are counted in Redis per username and per address.
"""

from __future__ import annotations

import hmac
import secrets
from datetime import timedelta
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import (
    Blueprint,
    Response,
    current_app,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from admin.sessions import RedisSessionInterface, ServerSession
from admin.users import User, UserStore

# Public: the sign-in page and the console's script and styles (they hold no data).
bp = Blueprint("auth", __name__, template_folder="templates", static_folder="static",
               static_url_path="/console/static")

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
CSRF_HEADER = "X-CSRF-Token"
# One office shares an address: it may fail this many times more than one username.
ADDRESS_FACTOR = 4


def services() -> Any:
    return current_app.extensions["wuye"]


def users() -> UserStore:
    return UserStore(services().sessions)


def current_user() -> User | None:
    if "user" not in g:
        user_id = session.get("uid")
        user = users().get(int(user_id)) if user_id else None
        g.user = user if user is not None and user.active else None
    return g.user


def csrf_token() -> str:
    """The session's token, put into every form and sent by the console's fetch calls."""
    token = session.get("csrf")
    if not token:
        token = session["csrf"] = secrets.token_urlsafe(32)
    return str(token)


def csrf_ok() -> bool:
    sent = request.headers.get(CSRF_HEADER) or request.form.get("csrf_token") or ""
    expected = session.get("csrf") or ""
    return bool(expected) and hmac.compare_digest(str(sent), str(expected))


def wants_json() -> bool:
    return "/api/" in request.path or request.is_json


def refuse(status: int, code: str, message: str) -> Response | tuple[Any, int]:
    if wants_json():
        return jsonify(error=code, message=message), status
    if status == 401:
        return redirect(url_for("auth.login", next=request.full_path))
    return render_template("console_error.html", message=message), status


def guard(role: str | None = None) -> Response | tuple[Any, int] | None:
    """before_request for protected blueprints: signed in, right role, CSRF on changes."""
    user = current_user()
    if user is None:
        return refuse(401, "login_required", "请先登录")
    if role == "admin" and not user.is_admin:
        return refuse(403, "forbidden", "仅客服主管可以访问此页面")
    if request.method not in SAFE_METHODS and not csrf_ok():
        return refuse(403, "csrf", "页面已过期，请刷新后重试")
    return None


@bp.before_request
def _csrf_for_auth() -> Response | tuple[Any, int] | None:
    if request.method not in SAFE_METHODS and not csrf_ok():
        return refuse(403, "csrf", "页面已过期，请刷新后重试")
    return None


# -- throttling ---------------------------------------------------------------------
def _fail_keys(username: str) -> list[str]:
    address = request.remote_addr or "unknown"
    return [f"wuye:login:fail:user:{username.strip().lower()}",
            f"wuye:login:fail:addr:{address}"]


def throttled(username: str) -> bool:
    """Too many failures for this username, or (a wider limit) from this address."""
    limit = services().config.console.login_max_failures
    redis = services().redis
    user_key, address_key = _fail_keys(username)
    return int(redis.get(user_key) or 0) >= limit or \
        int(redis.get(address_key) or 0) >= limit * ADDRESS_FACTOR


def note_failure(username: str) -> None:
    lockout = services().config.console.login_lockout_seconds
    pipe = services().redis.pipeline()
    for key in _fail_keys(username):
        pipe.incr(key)
        pipe.expire(key, lockout)
    pipe.execute()


# -- routes ---------------------------------------------------------------------------
@bp.route("/console/login", methods=["GET", "POST"])
def login() -> Any:
    error = ""
    status = 200
    if request.method == "POST":
        username = request.form.get("username", "")
        password = request.form.get("password", "")
        if throttled(username):
            minutes = services().config.console.login_lockout_seconds // 60
            error, status = f"登录失败次数过多，请 {minutes} 分钟后再试", 429
        else:
            user = users().authenticate(username, password)
            if user is None:
                note_failure(username)
                error, status = "用户名或密码错误", 401
            else:
                return _sign_in(user)
    page = render_template("console_login.html", error=error, next=request.args.get("next", ""))
    return page, status


def _sign_in(user: User) -> Response:
    services().redis.delete(_fail_keys(user.username)[0])
    session.clear()  # no fixation: a fresh session id (and CSRF token) after login
    if isinstance(session, ServerSession):
        session.rotate()
    session["uid"] = user.id
    csrf_token()
    users().set_presence(user.id, "online")
    services().handover.publish({"type": "presence", "agent_id": user.id, "presence": "online"})
    return redirect(safe_next(request.args.get("next") or ""))


_CONTROL = frozenset(chr(c) for c in (*range(32), 127))


def safe_next(target: str) -> str:
    """A same-site path to return to after sign-in, or the console.

    Browsers drop tabs and newlines inside URLs and read a backslash as a slash,
    so `/%09/evil`, `/\\evil` and `//evil` all leave the site; anything with such
    characters (raw or percent-encoded), a scheme or a host is refused.
    """
    default = url_for("console.page")
    for form in (target, unquote(target)):
        if not form.startswith("/") or form.startswith("//") or "\\" in form \
                or any(ch in _CONTROL for ch in form):
            return default
        parts = urlsplit(form)
        if parts.scheme or parts.netloc:
            return default
    return target


@bp.post("/console/logout")
def logout() -> Response:
    user = current_user()
    if user is not None:
        users().set_presence(user.id, "offline")
        services().handover.publish({"type": "presence", "agent_id": user.id,
                                     "presence": "offline"})
    session.clear()
    return redirect(url_for("auth.login"))


def configure(app: Any) -> None:
    """Server-side sessions, cookie settings, and the template helpers every page uses."""
    wuye = app.extensions["wuye"]
    console = wuye.config.console
    app.config.setdefault("SESSION_COOKIE_HTTPONLY", True)
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    app.config["SESSION_COOKIE_SECURE"] = console.secure_cookie
    app.config["SESSION_COOKIE_NAME"] = "wuye_session"
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=console.session_hours)
    app.session_interface = RedisSessionInterface(
        wuye.redis, idle_seconds=console.idle_minutes * 60,
        max_seconds=console.session_hours * 3600)
    app.jinja_env.globals.setdefault("csrf_token", csrf_token)
    app.jinja_env.globals.setdefault("current_user", current_user)
