"""The ticket board (/console/tickets) and one ticket's page: timeline, notes, photos,
conversation, dispatch to a named worker, state changes with the resident's text shown
before it is sent."""

from __future__ import annotations

import dataclasses
from typing import Any
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Response,
    abort,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    url_for,
)
from sqlalchemy import select

from admin import auth, desk_wiring, labels
from communities.directory import Communities
from communities.staff import Scope, StaffScopes, allows
from core.db import utcnow
from core.models import Message, Ticket
from core.models.desk import TicketPhoto
from desk import board, media
from desk.staff import Staff
from desk.work import WorkError

bp = Blueprint("board", __name__, template_folder="templates")

STATE_CHOICES = ("accepted", "in_progress", "resolved", "closed", "reopened", "cancelled")
CONVERSATION_LIMIT = 60


@bp.before_request
def _guard() -> Any:
    return auth.guard()


def _services() -> Any:
    return auth.services()


def _scope() -> Scope:
    """The communities the signed-in user serves (None: the whole company)."""
    return StaffScopes(_services().sessions).of(auth.current_user().id)


def _zone() -> ZoneInfo:
    return ZoneInfo(_services().config.service.timezone)


@bp.get("/console/tickets")
def tickets() -> str:
    services = _services()
    found = board.BoardFilter.from_args(request.args)
    scope = _scope()
    rows = board.rows(services.sessions, found, utcnow(), _zone(), scope)
    communities = [c for c in Communities(services.sessions).list() if allows(scope, c.id)]
    return render_template("board.html", rows=rows, f=found, left_text=board.left_text,
                           communities=communities,
                           departments=Staff(services.sessions).department_names(),
                           life=services.deps.tickets.life, zone=_zone())


@bp.get("/console/api/board")
def tickets_json() -> Response:
    found = board.BoardFilter.from_args(request.args)
    rows = board.rows(_services().sessions, found, utcnow(), _zone(), _scope())
    for row in rows:
        row["created_at"] = row["created_at"].isoformat()
        row["state_name"] = labels.state(row["state"])
    return jsonify(tickets=rows)


@bp.get("/console/tickets/<number>")
def ticket(number: str) -> str:
    services = _services()
    tickets_service = services.deps.tickets
    with services.sessions() as session:
        row = session.scalars(select(Ticket).where(Ticket.number == number)).first()
        if row is None or not allows(_scope(), row.community_id):
            abort(404)
        ticket_id, openid, department = row.id, row.openid, row.department
        created = row.created_at
    media.sync_resident_photos(services.sessions, services.config, services.wechat_api,
                               ticket_id)
    view = tickets_service.get(number)
    kind, left = board.countdown(row, utcnow())
    staff = Staff(services.sessions)
    return render_template(
        "ticket.html", t=view, ticket_row=row, events=tickets_service.events(number),
        photos=media.photos(services.sessions, ticket_id), deadline_kind=kind,
        left=board.left_text(left), workers=staff.members(department),
        assignee=staff.member(view.assignee_id) if view.assignee_id else None,
        conversation=[] if auth.current_user().is_staff else _conversation(openid, created),
        states=STATE_CHOICES,
        departments=staff.department_names(), zone=_zone())


def _conversation(openid: str | None, around: Any) -> list[dict[str, Any]]:
    """The resident's messages up to the ticket and after it (newest last)."""
    if not openid:
        return []
    with _services().sessions() as session:
        rows = session.scalars(select(Message).where(Message.openid == openid)
                               .order_by(Message.id.desc()).limit(CONVERSATION_LIMIT)).all()
        return [{"direction": m.direction, "sender": m.sender, "text": m.text,
                 "type": m.msg_type, "at": m.created_at} for m in reversed(rows)]


@bp.before_request
def _in_scope() -> None:
    """Changes and previews of one ticket: only within the user's communities."""
    number = (request.view_args or {}).get("number")
    if number is None:
        return
    with _services().sessions() as session:
        community = session.scalar(select(Ticket.community_id).where(Ticket.number == number))
    if not allows(_scope(), community):
        abort(404)


@bp.get("/console/api/tickets/<number>/preview")
def preview(number: str) -> Response:
    """The notice the resident would get for this state and text, before it is sent."""
    tickets_service = _services().deps.tickets
    view = tickets_service.get(number)
    state = request.args.get("state") or view.state
    if state not in tickets_service.life.data["states"]:
        return jsonify(error="bad_state", message="未知状态"), 400
    proposed = dataclasses.replace(view, state=state)
    tell = (request.args.get("tell") or "").strip()[:500]
    return jsonify(text=tickets_service.notice_text(proposed, tell))


@bp.post("/console/tickets/<number>/dispatch")
def dispatch(number: str) -> Response:
    services = _services()
    worker = request.form.get("worker_id", "")
    try:
        if not worker.isdigit():
            raise WorkError("请选择派给哪位员工")
        desk_wiring.work(services).dispatch(
            number, int(worker), desk_wiring.actor(services, auth.current_user()),
            request.form.get("note", "").strip()[:500])
        flash("已派单", "ok")
    except WorkError as exc:
        flash(str(exc), "error")
    return redirect(url_for("board.ticket", number=number))


@bp.post("/console/tickets/<number>/state")
def change_state(number: str) -> Response:
    from handlers.tickets.rules import TransitionError

    user = auth.current_user()
    form = request.form
    try:
        _services().deps.tickets.transition(
            number, form.get("state", ""), f"agent:{user.username}",
            form.get("note", "").strip()[:500], tell=form.get("tell", "").strip()[:500])
        flash(f"已更新为“{labels.state(form.get('state'))}”", "ok")
    except TransitionError as exc:
        flash(str(exc), "error")
    return redirect(url_for("board.ticket", number=number))


@bp.post("/console/tickets/<number>/note")
def add_note(number: str) -> Response:
    text = request.form.get("note", "").strip()
    if not text or len(text) > 1000:
        flash("备注不能为空，且不超过1000字", "error")
    else:
        _services().deps.tickets.add_note(number, f"agent:{auth.current_user().username}", text)
        flash("已添加内部备注（业主不可见）", "ok")
    return redirect(url_for("board.ticket", number=number))


@bp.post("/console/tickets/<number>/transfer")
def transfer(number: str) -> Response:
    from handlers.tickets.rules import TransitionError

    try:
        _services().deps.tickets.transfer(number, request.form.get("department", ""),
                                          f"agent:{auth.current_user().username}",
                                          request.form.get("note", "").strip()[:200])
        flash("已转部门", "ok")
    except TransitionError as exc:
        flash(str(exc), "error")
    return redirect(url_for("board.ticket", number=number))


@bp.get("/console/media/<int:photo_id>")
def photo(photo_id: int) -> Response:
    services = _services()
    with services.sessions() as session:
        row = session.get(TicketPhoto, photo_id)
        path = row.path if row is not None else None
        kind = row.content_type if row is not None else ""
    found = media.file_path(services.config, path) if path else None
    if found is None:
        abort(404)
    return send_file(found, mimetype=kind, max_age=3600)
