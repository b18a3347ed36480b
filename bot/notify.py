"""Proactive notices to residents (ticket progress, agent replies) through the outbox.

WeChat allows customer-service messages only within 48 hours of the resident's
last message; outside it only a template message can reach them.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from bot.messages import MessageLog
from bot.outbox import Outbox
from bot.replies import Reply, custom_payload
from core.db import transaction, utcnow

log = logging.getLogger(__name__)

CUSTOMER_SERVICE_WINDOW = timedelta(hours=48)


class Notifier:
    def __init__(self, sessions: sessionmaker[Session], messages: MessageLog,
                 outbox: Outbox) -> None:
        self.sessions = sessions
        self.messages = messages
        self.outbox = outbox

    def within_window(self, openid: str) -> bool:
        last = self.messages.last_inbound_at(openid)
        return last is not None and utcnow() - last <= CUSTOMER_SERVICE_WINDOW

    def notify(self, openid: str, text: str, template: str | None = None,
               data: dict[str, Any] | None = None, sender: str = "bot") -> str:
        """Queue a notice; returns how it goes out: custom, template or undeliverable."""
        reply = Reply("text", text)
        with transaction(self.sessions) as session:
            if self.within_window(openid):
                message_id = self.messages.add_outbound(session, openid, reply, "custom",
                                                        "queued", sender=sender)
                self.outbox.enqueue(session, openid, "custom", custom_payload(reply, openid),
                                    message_id)
                return "custom"
            if template:
                message_id = self.messages.add_outbound(session, openid, reply, "template",
                                                        "queued", sender=sender)
                payload = {"touser": openid, "template_id": template, "data": data or {
                    "first": {"value": text}}}
                self.outbox.enqueue(session, openid, "template", payload, message_id)
                return "template"
            self.messages.add_outbound(session, openid, reply, "none", "undeliverable",
                                       sender=sender, needs_agent=True)
            log.info("notice to %s not sent: outside the 48-hour window, no template", openid)
            return "undeliverable"
