"""What handlers need from the outside world, passed in explicitly (no globals)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from core.config import Config
from handlers.texts import Texts, load_table
from handlers.tickets.service import TicketService
from knowledge_loop.feedback import FeedbackStore


@dataclass
class HandlerDeps:
    """Built once by the composition root; later areas add their repositories here."""

    config: Config
    sessions: sessionmaker[Session]
    faqs: Any  # knowledge_base.repository.FaqRepository
    # Sends WeChat notifications to residents (implemented at the edge, in bot/notify.py):
    # notifier.notify(openid: str, text: str, template: str | None, data: dict | None) -> None
    notifier: Any = None

    @cached_property
    def tickets(self) -> TicketService:
        """One ticket service for the chat flows and the console: rule files parsed once."""
        return TicketService(self.sessions, self.config, self.texts, self.notifier)

    @cached_property
    def feedback(self) -> FeedbackStore:
        """Logs FAQ answers and the residents' 有帮助/没帮助 replies."""
        return FeedbackStore(self.sessions, self.config.knowledge)

    @cached_property
    def texts(self) -> Texts:
        service = self.config.service
        return Texts(
            load_table(),
            {
                "property_name": service.property_name,
                "hotline": service.hotline,
                "emergency_phone": service.emergency_phone,
                "weekday_hours": service.weekday_hours,
                "weekend_hours": service.weekend_hours,
            },
        )
