"""The agent console: one page, and the JSON API its script calls (all behind login)."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, jsonify, redirect, render_template, request, url_for
from sqlalchemy import or_, select

from admin import auth, labels
from admin.errors import ConsoleError
from admin.service import ConsoleService
from admin.tickets import (
    TICKET_TYPES,
    check_ticket_scope,
    create_ticket,
    list_tickets,
    update_ticket,
)
from admin.users import UserError, UserStore
from bot.handover import HandoverError
from core.models.console import CannedReply

bp = Blueprint("console", __name__, template_folder="templates")


@bp.before_request
def _guard() -> Any:
    refused = auth.guard()
    if refused is not None:
        return refused
    if _user().is_staff and request.endpoint != "console.page":
        # Department staff work tickets, not residents' chats (严守业主秘密).
        return auth.refuse(403, "forbidden", "部门员工请使用“我的工单”页面")
    if request.view_args and "openid" in request.view_args:
        _service().check_scope(str(request.view_args["openid"]), _user())
    return None


@bp.errorhandler(ConsoleError)
def _console_error(exc: ConsoleError) -> tuple[Response, int]:
    return jsonify(error=exc.code, message=exc.message), exc.status


@bp.errorhandler(HandoverError)
def _handover_error(exc: HandoverError) -> tuple[Response, int]:
    return _console_error(ConsoleError(exc.code))[0], 409


def _service() -> ConsoleService:
    return ConsoleService(auth.services())


def _user() -> Any:
    return auth.current_user()


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ConsoleError("bad_request")
    return data


@bp.get("/console")
def page() -> Any:
    if _user().is_staff:
        return redirect(url_for("worker.home"))
    return render_template("console.html", user=_user(), ticket_types=TICKET_TYPES,
                           labels=labels.for_js())


@bp.get("/console/api/queue")
def queue() -> Response:
    return jsonify(_service().queue(_user()))


@bp.get("/console/api/conversations/<openid>")
def conversation(openid: str) -> Response:
    service = _service()
    found = service.detail(openid)
    service.mark_seen(openid, _user(), found["history"])
    return jsonify(found)


@bp.post("/console/api/conversations/<openid>/take")
def take(openid: str) -> Response:
    auth.services().handover.take_over(openid, _user().id)
    return jsonify(ok=True)


@bp.post("/console/api/conversations/<openid>/handback")
def hand_back(openid: str) -> Response:
    _service().hand_back(openid, _user())
    return jsonify(ok=True)


@bp.post("/console/api/conversations/<openid>/close")
def close(openid: str) -> Response:
    _service().close(openid, _user())
    return jsonify(ok=True)


@bp.post("/console/api/conversations/<openid>/transfer")
def transfer(openid: str) -> Response:
    try:
        to_agent = int(_body().get("agent_id"))
    except (TypeError, ValueError):
        raise ConsoleError("bad_agent") from None
    _service().transfer(openid, _user(), to_agent)
    return jsonify(ok=True)


@bp.post("/console/api/conversations/<openid>/reply")
def reply(openid: str) -> Response:
    ids = _service().reply(openid, _user(), str(_body().get("text") or ""))
    return jsonify(ok=True, message_ids=ids)


@bp.post("/console/api/conversations/<openid>/notes")
def note(openid: str) -> Response:
    _service().add_note(openid, _user(), str(_body().get("text") or ""))
    return jsonify(ok=True)


@bp.post("/console/api/conversations/<openid>/reveal")
def reveal(openid: str) -> Response:
    return jsonify(phones=_service().reveal_phone(openid, _user()))


@bp.post("/console/api/conversations/<openid>/tickets")
def new_ticket(openid: str) -> Response:
    return jsonify(ticket=create_ticket(auth.services(), openid, _user(), _body()))


@bp.get("/console/api/tickets")
def tickets() -> Response:
    """Tickets of the user's communities, newest first (`state` may repeat)."""
    return jsonify(tickets=list_tickets(auth.services(), _service().scope(_user()),
                                        request.args.getlist("state")))


@bp.post("/console/api/tickets/<number>/state")
def ticket_state(number: str) -> Response:
    check_ticket_scope(auth.services(), number, _service().scope(_user()))
    return jsonify(ticket=update_ticket(auth.services(), number, _user(), _body()))


@bp.post("/console/api/messages/<int:message_id>/retry")
def retry(message_id: int) -> Response:
    _service().retry(message_id, _user())
    return jsonify(ok=True)


@bp.get("/console/api/canned")
def canned() -> Response:
    scope = _service().scope(_user())
    query = select(CannedReply).order_by(CannedReply.shortcut)
    if scope is not None:  # company-wide replies, and those of the user's communities
        query = query.where(or_(CannedReply.community_id.is_(None),
                                CannedReply.community_id.in_(list(scope))))
    with auth.services().sessions() as session:
        rows = session.scalars(query).all()
        items = [{"shortcut": r.shortcut, "title": r.title, "text": r.text} for r in rows]
    return jsonify(canned=items)


@bp.post("/console/api/presence/offline")
def presence_gone() -> Response:
    """The page is closing (navigator.sendBeacon on pagehide): offline at once."""
    UserStore(auth.services().sessions).set_presence(_user().id, "offline")
    auth.services().handover.publish({"type": "presence", "agent_id": _user().id,
                                      "presence": "offline"})
    return jsonify(ok=True)


@bp.post("/console/api/presence")
def presence() -> Response:
    value = str(_body().get("presence") or "")
    try:
        UserStore(auth.services().sessions).set_presence(_user().id, value)
    except UserError:
        raise ConsoleError("bad_request") from None
    auth.services().handover.publish({"type": "presence", "agent_id": _user().id,
                                      "presence": value})
    return jsonify(ok=True, presence=value)
