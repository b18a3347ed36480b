"""The worker's mobile page (390 px): their department's new tickets and their own,
accept, start, notes and photos, complete; and binding their own WeChat (OAuth)."""

from __future__ import annotations

import secrets
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as web_session
from sqlalchemy import select

from admin import auth, desk_wiring
from communities.staff import StaffScopes
from core.models import Ticket
from desk import alerts, media
from desk.staff import Staff, StaffError
from desk.wechat import WechatDeskError, authorize_url, openid_for_code
from desk.work import WorkError

bp = Blueprint("worker", __name__, template_folder="templates")

ACTIONS = ("accept", "start", "complete", "note")


@bp.before_request
def _guard() -> Any:
    return auth.guard()


def _services() -> Any:
    return auth.services()


@bp.get("/console/worker")
def home() -> str:
    services = _services()
    user = auth.current_user()
    who = desk_wiring.actor(services, user)
    scope = StaffScopes(services.sessions).of(user.id)
    found = desk_wiring.work(services).worker_tickets(who, scope)
    return render_template("worker.html", me=who, new=found["new"], mine=found["mine"],
                           alerts=alerts.unread(services.sessions, user.id))


@bp.get("/console/worker/alerts")
def unread_alerts() -> Response:
    """What the page polls: the signed-in user's unread alerts (dispatches, breaches)."""
    return jsonify(alerts=alerts.unread(_services().sessions, auth.current_user().id))


@bp.post("/console/worker/alerts/read")
def read_alerts() -> Response:
    alerts.mark_read(_services().sessions, auth.current_user().id)
    return redirect(url_for("worker.home"))


@bp.get("/console/worker/tickets/<number>")
def ticket(number: str) -> str:
    services = _services()
    with services.sessions() as session:
        row = session.scalars(select(Ticket).where(Ticket.number == number)).first()
        if row is None:
            abort(404)
        ticket_id = row.id
    media.sync_resident_photos(services.sessions, services.config, services.wechat_api,
                               ticket_id)
    who = desk_wiring.actor(services, auth.current_user())
    return render_template("worker_ticket.html", t=row, me=who,
                           events=services.deps.tickets.events(number),
                           photos=media.photos(services.sessions, ticket_id))


@bp.post("/console/worker/tickets/<number>/<action>")
def act(number: str, action: str) -> Response:
    if action not in ACTIONS:
        abort(404)
    services = _services()
    who = desk_wiring.actor(services, auth.current_user())
    work = desk_wiring.work(services)
    form = request.form
    try:
        upload = request.files.get("photo")
        if upload is not None and upload.filename:
            media.add_worker_photo(services.sessions, services.config, number, upload.read(),
                                   upload.mimetype or "", who.label)
        note = form.get("note", "").strip()[:1000]
        if action == "accept":
            work.accept(number, who)
        elif action == "start":
            work.start(number, who)
        elif action == "complete":
            work.complete(number, who, note, tell=form.get("tell", "").strip()[:300])
        elif note:
            work.note(number, who, note)
        elif upload is None or not upload.filename:
            raise WorkError("请填写备注或选择照片")
        flash(_done_text(action), "ok")
    except (WorkError, media.PhotoError, ValueError) as exc:
        flash(str(exc), "error")
    return redirect(url_for("worker.ticket", number=number))


def _done_text(action: str) -> str:
    return {"accept": "已接单", "start": "已开始处理", "complete": "已完成，已通知业主确认",
            "note": "已保存"}[action]


# -- binding the worker's own WeChat (snsapi_base OAuth) -------------------------------
@bp.get("/console/worker/wechat/bind")
def bind() -> Response:
    state = web_session["oauth_state"] = secrets.token_urlsafe(16)
    target = url_for("worker.bound", _external=True)
    return redirect(authorize_url(_services().config.wechat, target, state))


@bp.get("/console/worker/wechat/callback")
def bound() -> Response:
    expected = web_session.pop("oauth_state", None)
    if not expected or request.args.get("state") != expected or not request.args.get("code"):
        flash("微信绑定已失效，请重新绑定", "error")
        return redirect(url_for("worker.home"))
    services = _services()
    try:
        openid = openid_for_code(services.config.wechat, request.args["code"])
        Staff(services.sessions).bind_wechat(auth.current_user().id, openid)
        flash("微信已绑定，新派单将通过微信通知您", "ok")
    except (WechatDeskError, StaffError) as exc:
        flash(f"微信绑定失败：{exc}", "error")
    return redirect(url_for("worker.home"))
