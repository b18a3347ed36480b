"""Every table, imported here so Alembic and the tests see one metadata.

Each area owns one module; add its import line below.
"""

import core.models.console  # noqa: F401  (agent console tables)
import core.models.desk  # noqa: F401  (service desk tables)
import core.models.knowledge_loop  # noqa: F401  (FAQ history, queue, notices, menu)
from core.models.chat import Conversation, Message, OutboxItem, Resident
from core.models.communities import Community, FaqOverride, StaffCommunity
from core.models.knowledge_base import FaqEntry
from core.models.tickets import Bill, Household, RoomBinding, Ticket, TicketEvent

__all__ = [
    "Bill",
    "Community",
    "Conversation",
    "FaqEntry",
    "FaqOverride",
    "Household",
    "Message",
    "OutboxItem",
    "Resident",
    "RoomBinding",
    "StaffCommunity",
    "Ticket",
    "TicketEvent",
]
