"""Every table, imported here so Alembic and the tests see one metadata.

Each area owns one module; add its import line below.
"""

from core.models.chat import Conversation, Message, OutboxItem, Resident

__all__ = ["Conversation", "Message", "OutboxItem", "Resident"]
