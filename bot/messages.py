"""The message log: every inbound push and outbound reply, stored before and after work."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.inbound import Inbound
from bot.replies import Reply
from core.db import transaction, utcnow
from core.models import Message, Resident


class MessageLog:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def store_inbound(self, inbound: Inbound, raw: str) -> int:
        """Commit the push before any processing; raises IntegrityError on a duplicate."""
        with transaction(self.sessions) as session:
            self._touch_resident(session, inbound)
            message = Message(
                openid=inbound.openid,
                direction="in",
                msg_type=inbound.event and f"event:{inbound.event}" or inbound.msg_type,
                dedupe_key=inbound.dedupe_key,
                wechat_msg_id=inbound.msg_id,
                text=inbound.text,
                raw=raw,
                parsed=inbound.fields,
                sender="resident",
                status="received",
            )
            session.add(message)
            session.flush()
            return message.id

    def _touch_resident(self, session: Session, inbound: Inbound) -> None:
        now = utcnow()
        resident = session.get(Resident, inbound.openid)
        if resident is None:
            resident = Resident(openid=inbound.openid, first_seen=now)
            session.add(resident)
        resident.last_seen = now
        if inbound.is_event:
            if inbound.event == "unsubscribe":
                resident.following = False
            elif inbound.event == "subscribe":
                resident.following = True
        else:
            resident.last_inbound_at = now

    def record_outcome(self, message_id: int, nlu: dict[str, Any] | None,
                       conversation_id: int | None, needs_agent: bool) -> None:
        """The turn's result on the inbound row, in one write: processed, the NLU reading,
        the conversation, and whether a person must look at it."""
        values: dict[str, Any] = {"status": "processed", "conversation_id": conversation_id}
        if nlu is not None:
            values["nlu"] = nlu
        if needs_agent:
            values["needs_agent"] = True
        with transaction(self.sessions) as session:
            session.execute(update(Message).where(Message.id == message_id).values(**values))

    def finish(self, message_id: int, status: str, needs_agent: bool = False,
               error: str | None = None) -> None:
        values: dict[str, Any] = {"status": status}
        if needs_agent:
            values["needs_agent"] = True
        if error:
            values["error"] = error
        with transaction(self.sessions) as session:
            session.execute(update(Message).where(Message.id == message_id).values(**values))

    @staticmethod
    def add_outbound(session: Session, openid: str, reply: Reply, delivery: str,
                     status: str, sender: str = "bot",
                     conversation_id: int | None = None) -> Message:
        message = Message(
            openid=openid,
            direction="out",
            msg_type=reply.kind,
            text=reply.text,
            parsed=reply.to_dict(),
            sender=sender,
            delivery=delivery,
            status=status,
            conversation_id=conversation_id,
        )
        session.add(message)
        session.flush()
        return message

    def recent(self, openid: str, limit: int = 20) -> list[Message]:
        with self.sessions() as session:
            rows = session.scalars(
                select(Message).where(Message.openid == openid)
                .order_by(Message.id.desc()).limit(limit)
            ).all()
        return list(reversed(rows))

    def last_inbound_at(self, openid: str) -> datetime | None:
        with self.sessions() as session:
            resident = session.get(Resident, openid)
            value = resident.last_inbound_at if resident else None
        return value.astimezone(UTC) if value else None
