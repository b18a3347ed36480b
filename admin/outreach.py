"""Admin pages for outreach: notices (通知公告) and the custom menu (自定义菜单)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, flash, redirect, render_template, request, url_for

from admin import auth, kb_audit
from bot.menu_store import INTENTS, MenuError
from communities.directory import Communities
from notices.service import TARGET_LABELS, Draft, NoticeError, check

bp = Blueprint("outreach", __name__, url_prefix="/admin", template_folder="templates")


@bp.before_request
def _guard() -> Any:
    return auth.guard(role="admin")


def _services() -> Any:
    return auth.services()


def _user() -> str:
    return auth.current_user().username


# -- notices --------------------------------------------------------------------------------
def _communities() -> list[Any]:
    return Communities(_services().sessions).list()


def _draft(form: Any) -> Draft:
    community = form.get("community_id", "")
    return Draft(title=form.get("title", ""), body=form.get("body", ""),
                 target=form.get("target", "community"),
                 target_value=form.get("target_value", ""),
                 community_id=int(community) if community.isdigit() else None,
                 url=form.get("url", "").strip(), scheduled_at=_local_time(
                     form.get("scheduled_at", ""), _services().config.service.timezone))


def _local_time(value: str, zone: str) -> datetime | None:
    value = value.strip().replace("T", " ")
    if not value:
        return None
    try:
        local = datetime.strptime(value, "%Y-%m-%d %H:%M")
    except ValueError:
        raise NoticeError("发送时间格式应为 2026-01-31 08:00") from None
    return local.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)


@bp.get("/notices")
def notices() -> str:
    service = _services().notices
    service.sync()
    history = [(n, service.counts(n.id)) for n in service.history()]
    return render_template("admin_notices.html", history=history, communities=_communities(),
                           targets=TARGET_LABELS, preview=None, form={})


@bp.post("/notices")
def compose_notice() -> Any:
    service = _services().notices
    form = request.form
    try:
        draft = _draft(form)
        if form.get("action") == "preview":
            check(draft)
            recipients = service.recipients(draft)
            preview = {"count": len(recipients), "payload": service.payload(draft, "OPENID")}
            history = [(n, service.counts(n.id)) for n in service.history()]
            return render_template("admin_notices.html", history=history, preview=preview,
                                   communities=_communities(), targets=TARGET_LABELS, form=form)
        notice_id = service.create(draft, _user())
    except NoticeError as exc:
        flash(str(exc), "error")
        return redirect(url_for("outreach.notices"))
    kb_audit.record("notice.create", str(notice_id), draft.title)
    if draft.scheduled_at is None or form.get("action") == "send":
        sent = service.send(notice_id)
        flash(f"通知已发送给 {sent} 位业主", "ok")
    else:
        flash("通知已定时，到时间自动发送", "ok")
    return redirect(url_for("outreach.notices"))


@bp.post("/notices/<int:notice_id>/cancel")
def cancel_notice(notice_id: int) -> Response:
    if _services().notices.cancel(notice_id):
        kb_audit.record("notice.cancel", str(notice_id))
        flash("已取消", "ok")
    return redirect(url_for("outreach.notices"))


# -- custom menu ----------------------------------------------------------------------------
@bp.get("/menu")
def menu() -> str:
    store = _services().menus
    return render_template("admin_menu.html", current=store.latest(), live=store.live(),
                           versions=store.versions(), intents=INTENTS)


def _menu_from_form(form: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """b{i}_name/type/key/url/intent and b{i}_s{j}_…: the editor's grid → menu + keys."""
    buttons: list[dict[str, Any]] = []
    keys: dict[str, dict[str, Any]] = {}
    for i in range(3):
        name = form.get(f"b{i}_name", "").strip()
        if not name:
            continue
        subs = [_button(form, f"b{i}_s{j}", keys) for j in range(5)]
        subs = [s for s in subs if s is not None]
        if subs:
            buttons.append({"name": name, "sub_button": subs})
        else:
            buttons.append(_button(form, f"b{i}", keys) or {"name": name})
    return {"button": buttons}, keys


def _button(form: Any, prefix: str, keys: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
    name = form.get(f"{prefix}_name", "").strip()
    if not name:
        return None
    if form.get(f"{prefix}_type") == "view":
        return {"type": "view", "name": name, "url": form.get(f"{prefix}_url", "").strip()}
    intent = form.get(f"{prefix}_intent", "")
    key = form.get(f"{prefix}_key", "").strip() or f"MENU_{intent.upper()}"
    keys[key] = {"intent": intent, "text": name}
    return {"type": "click", "name": name, "key": key}


@bp.post("/menu")
def save_menu() -> Response:
    definition, keys = _menu_from_form(request.form)
    store = _services().menus
    try:
        version = store.save(definition, keys, _user(), request.form.get("note", ""))
        kb_audit.record("menu.save", str(version))
        if request.form.get("action") == "push":
            store.push(version)
            kb_audit.record("menu.push", str(version))
            flash(f"菜单 v{version} 已发布到微信", "ok")
        else:
            flash(f"已保存菜单 v{version}", "ok")
    except MenuError as exc:
        flash(str(exc), "error")
    return redirect(url_for("outreach.menu"))


@bp.post("/menu/<int:version>/push")
def push_menu(version: int) -> Response:
    try:
        _services().menus.push(version)
        kb_audit.record("menu.push", str(version))
        flash(f"菜单 v{version} 已发布到微信", "ok")
    except MenuError as exc:
        flash(str(exc), "error")
    return redirect(url_for("outreach.menu"))
