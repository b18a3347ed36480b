"""Every table, imported here so Alembic and the tests see one metadata.

Each area owns one module; add its import line below.
"""

from core.models.chat import Conversation, Message, OutboxItem, Resident
from core.models.knowledge_base import FaqEntry

__all__ = ["Conversation", "FaqEntry", "Message", "OutboxItem", "Resident"]
