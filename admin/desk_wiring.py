"""The desk's domain objects built from the app's services for one request."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from bot.replies import Reply
from desk.work import Actor, Work


def template_sender(services: Any) -> Any:
    """Store a template message and its outbox item in the caller's transaction."""

    def send(session: Session, openid: str, payload: dict[str, Any], text: str) -> None:
        message_id = services.messages.add_outbound(session, openid, Reply("text", text),
                                                    "template", "queued", sender="bot")
        services.outbox.enqueue(session, openid, "template", payload, message_id)

    return send


def work(services: Any) -> Work:
    return Work(services.sessions, services.config, services.deps.tickets,
                send_template=template_sender(services), publish=services.handover.publish)


def actor(services: Any, user: Any) -> Actor:
    return work(services).actor(user.id, user.name, user.is_admin)
