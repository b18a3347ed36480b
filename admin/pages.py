"""Admin pages (客服主管 only): canned replies, users and the KPIs (FAQ pages: admin/faq.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.wrappers import Response

from admin import audit, auth, kpi
from admin.sessions import revoke_user
from admin.users import ROLES, UserError, UserStore
from communities.staff import StaffScopes, allows
from core.db import transaction, utcnow
from core.models.console import CannedReply
from core.yamlfile import load_yaml

bp = Blueprint("admin", __name__, url_prefix="/admin", template_folder="templates")

DEFAULT_CANNED = Path(__file__).resolve().parent / "data" / "canned_replies.yaml"
MAX_CANNED_CHARS = 1000


@bp.before_request
def _guard() -> Any:
    return auth.guard(role="admin")


def _audit(action: str, target: str = "", detail: str = "") -> None:
    """Every admin change goes on record with who made it and from where."""
    audit.record(auth.services().sessions, auth.current_user(), action, target, detail,
                 request.remote_addr or "")


@bp.get("/")
def index() -> Response:
    return redirect(url_for("admin.kpis"))


# -- canned replies ----------------------------------------------------------------------
@bp.get("/canned")
def canned() -> str:
    with auth.services().sessions() as session:
        rows = session.scalars(select(CannedReply).order_by(CannedReply.shortcut)).all()
    return render_template("admin_canned.html", rows=rows)


@bp.post("/canned")
def save_canned() -> Response:
    form = request.form
    shortcut = form.get("shortcut", "").strip()
    text = form.get("text", "").strip()
    if not shortcut.startswith("/") or len(shortcut) > 32 or not text \
            or len(text) > MAX_CANNED_CHARS:
        flash("快捷短语须以 / 开头（不超过32字），内容不能为空且不超过1000字", "error")
        return redirect(url_for("admin.canned"))
    try:
        with transaction(auth.services().sessions) as session:
            row_id = form.get("id", "")
            row = session.get(CannedReply, int(row_id)) if row_id.isdigit() else None
            if row is None:
                row = CannedReply(shortcut=shortcut, text=text)
                session.add(row)
            row.shortcut, row.text = shortcut, text
            row.title = form.get("title", "").strip()[:64]
            row.updated_at, row.updated_by = utcnow(), auth.current_user().username
        _audit("canned.save", shortcut)
        flash(f"已保存 {shortcut}", "ok")
    except IntegrityError:
        flash(f"快捷短语 {shortcut} 已存在", "error")
    return redirect(url_for("admin.canned"))


@bp.post("/canned/<int:row_id>/delete")
def delete_canned(row_id: int) -> Response:
    with transaction(auth.services().sessions) as session:
        row = session.get(CannedReply, row_id)
        shortcut = row.shortcut if row is not None else str(row_id)
        if row is not None:
            session.delete(row)
    _audit("canned.delete", shortcut)
    flash("已删除", "ok")
    return redirect(url_for("admin.canned"))


def seed_canned(sessions: sessionmaker[Session]) -> None:
    """A fresh installation starts with the default service-language templates."""
    with sessions() as session:
        if session.scalar(select(CannedReply.id).limit(1)) is not None:
            return
    defaults = load_yaml(DEFAULT_CANNED) or []
    try:
        with transaction(sessions) as session:
            session.add_all(CannedReply(shortcut=d["shortcut"], title=d.get("title", ""),
                                        text=d["text"]) for d in defaults)
    except IntegrityError:
        pass  # another process seeded them at the same moment


# -- users ---------------------------------------------------------------------------------
def _store() -> UserStore:
    return UserStore(auth.services().sessions)


def _username(user_id: int) -> str:
    user = _store().get(user_id)
    return user.username if user is not None else str(user_id)


@bp.get("/users")
def users() -> str:
    services = auth.services()
    scopes = StaffScopes(services.sessions)
    listed = _store().list()
    return render_template("admin_users.html", users=listed, roles=ROLES,
                           communities=services.communities.list(),
                           scopes={u.id: scopes.of(u.id) for u in listed},
                           company_admin=scopes.of(auth.current_user().id) is None)


@bp.post("/users/<int:user_id>/communities")
def set_communities(user_id: int) -> Response:
    """Scope a user to some communities (none ticked: the whole company)."""
    services = auth.services()
    scopes = StaffScopes(services.sessions)
    if scopes.of(auth.current_user().id) is not None:
        flash("只有负责全部小区的主管可以调整负责小区", "error")
        return redirect(url_for("admin.users"))
    known = {c.id for c in services.communities.list()}
    chosen = [int(v) for v in request.form.getlist("community") if v.isdigit()]
    scopes.set(user_id, [c for c in chosen if c in known])
    _audit("user.communities", _username(user_id),
           ",".join(c.code for c in services.communities.list() if c.id in chosen) or "all")
    flash("已更新负责小区", "ok")
    return redirect(url_for("admin.users"))


@bp.post("/users")
def add_user() -> Response:
    form = request.form
    try:
        user = _store().create(
            form.get("username", ""), form.get("password", ""), form.get("role", "agent"),
            form.get("display_name", ""))
        _audit("user.create", user.username, f"role={user.role}")
        scopes = StaffScopes(auth.services().sessions)
        scope = scopes.of(auth.current_user().id)
        if scope is not None:  # a community's supervisor adds staff for that community
            scopes.set(user.id, scope)
        flash(f"已创建用户 {user.username}", "ok")
    except UserError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/active")
def set_active(user_id: int) -> Response:
    if user_id == auth.current_user().id:
        flash("不能停用自己的账号", "error")
        return redirect(url_for("admin.users"))
    active = request.form.get("active") == "1"
    try:
        _store().set_active(user_id, active)
        if not active:
            revoke_user(auth.services().redis, user_id)
        _audit("user.activate" if active else "user.deactivate", _username(user_id))
        flash("已更新", "ok")
    except UserError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/role")
def set_role(user_id: int) -> Response:
    """Change a role; the user's sessions end, so the new rights apply from the next sign-in."""
    if user_id == auth.current_user().id:
        flash("不能修改自己的角色", "error")
        return redirect(url_for("admin.users"))
    role = request.form.get("role", "")
    try:
        user = _store().set_role(user_id, role)
        revoke_user(auth.services().redis, user_id)
        _audit("user.role", user.username, f"role={role}")
        flash(f"已将 {user.username} 的角色改为{'客服主管' if role == 'admin' else '客服专员'}",
              "ok")
    except UserError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password")
def reset_password(user_id: int) -> Response:
    """Set a new password; every session of that user ends at once."""
    try:
        user = _store().set_password(user_id, request.form.get("password", ""))
        revoke_user(auth.services().redis, user_id)
        _audit("user.password", user.username)
        flash(f"已重置 {user.username} 的密码", "ok")
    except UserError as exc:
        flash(str(exc), "error")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/sessions/revoke")
def revoke_sessions(user_id: int) -> Response:
    ended = revoke_user(auth.services().redis, user_id)
    _audit("user.sessions", _username(user_id), f"ended={ended}")
    flash(f"已强制下线（{ended} 个登录）", "ok")
    return redirect(url_for("admin.users"))


@bp.get("/audit")
def audit_log() -> str:
    return render_template("admin_audit.html", entries=audit.recent(auth.services().sessions),
                           actions=audit.ACTIONS)


# -- KPIs ------------------------------------------------------------------------------------
@bp.get("/kpi")
def kpis() -> str:
    days = request.args.get("days", "30")
    period = int(days) if days.isdigit() and 0 < int(days) <= 3650 else 30
    services = auth.services()
    scope = StaffScopes(services.sessions).of(auth.current_user().id)
    communities = [c for c in services.communities.list() if allows(scope, c.id)]
    chosen = next((c for c in communities if c.code == request.args.get("community")), None)
    figures = kpi.compute(services.sessions, period,
                          frozenset({chosen.id}) if chosen else scope)
    return render_template("admin_kpi.html", k=figures, communities=communities,
                           community=chosen.code if chosen else "")
