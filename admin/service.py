"""What the console does, apart from HTTP: the queue, a conversation's view, replies, notes.

Replies go out as customer-service messages through the outbox (stored with
their Message in one transaction), so a failed send is retried and its status
shown on the message. WeChat allows them only within 48 hours of the
resident's last message; after that sending is refused here, before the outbox.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from admin import labels
from admin.errors import ConsoleError, ForbiddenError, NotFoundError, WindowClosedError
from admin.users import User, UserStore
from bot.messages import MessageLog
from bot.replies import Reply, custom_payload, split_text
from bot.state import ConversationState
from communities.residents import ResidentCommunities
from communities.staff import Scope, StaffScopes, allows
from core.db import transaction, utcnow
from core.models import Message, OutboxItem, Resident
from core.models.console import HandoverRecord, InternalNote, RevealAudit

HISTORY_LIMIT = 200
# An open console page says it is there every 30 s; after this long without it, offline.
PRESENCE_TTL = timedelta(seconds=90)
SEEN_TTL_SECONDS = 7 * 86400
MAX_REPLY_CHARS = 2000
MAX_NOTE_CHARS = 2000


class ConsoleService:
    def __init__(self, services: Any) -> None:
        self.services = services
        self.sessions = services.sessions
        self.handover = services.handover
        self.users = UserStore(services.sessions)
        self.scopes = StaffScopes(services.sessions)

    # -- community scope --------------------------------------------------------------
    def scope(self, user: User) -> Scope:
        return self.scopes.of(user.id)

    def community_of(self, openid: str) -> int | None:
        """The community a conversation belongs to: its latest handover's, else the
        resident's own."""
        with self.sessions() as session:
            recorded = session.scalar(select(HandoverRecord.community_id).where(
                HandoverRecord.openid == openid).order_by(HandoverRecord.id.desc()).limit(1))
        if recorded is not None:
            return int(recorded)
        community = ResidentCommunities(self.sessions).resolve(openid)
        return community.id if community is not None else None

    def check_scope(self, openid: str, user: User) -> None:
        """Staff scoped to some communities open only those communities' conversations."""
        scope = self.scope(user)
        if scope is not None and not allows(scope, self.community_of(openid)):
            raise ForbiddenError("out_of_scope")

    # -- the queue ------------------------------------------------------------------
    def queue(self, user: User) -> dict[str, Any]:
        """Emergencies pinned first, then oldest first; the agent's own (with unread
        counts); the others' (for transfer); who is really online."""
        now = utcnow()
        names = self.users.names()
        scope = self.scope(user)
        places = {c.id: c.name for c in self.services.communities.list()}
        with self.sessions() as session:
            records = session.scalars(
                select(HandoverRecord).where(HandoverRecord.status.in_(("waiting", "agent")))
                .order_by(HandoverRecord.requested_at, HandoverRecord.id)).all()
            items = [self._queue_item(session, r, now, names) | {
                "community_name": places.get(r.community_id or 0)}
                for r in records if allows(scope, r.community_id)]
            items.sort(key=lambda i: not i["emergency"])  # stable: oldest first within
            mine = [i for i in items if i["status"] == "agent" and i["agent_id"] == user.id]
            for item in mine:
                item["unread"] = self._unread(session, user.id, item["openid"])
        return {
            "waiting": [i for i in items if i["status"] == "waiting"],
            "mine": mine,
            "others": [i for i in items if i["status"] == "agent" and i["agent_id"] != user.id],
            "agents": [{"id": u.id, "name": u.name, "presence": presence_now(u, now),
                        "role": u.role} for u in self.users.list()
                       if u.active and not u.is_staff],
        }

    @staticmethod
    def seen_key(user_id: int, openid: str) -> str:
        return f"wuye:console:seen:{user_id}:{openid}"

    def _unread(self, session: Any, user_id: int, openid: str) -> int:
        seen = int(self.services.redis.get(self.seen_key(user_id, openid)) or 0)
        return int(session.scalar(select(func.count()).select_from(Message).where(
            Message.openid == openid, Message.direction == "in", Message.id > seen)) or 0)

    def mark_seen(self, openid: str, user: User, history: list[dict[str, Any]]) -> None:
        """The agent has the conversation on screen: its messages are read."""
        last = max((m["id"] for m in history if m["direction"] == "in"), default=0)
        self.services.redis.set(self.seen_key(user.id, openid), last, ex=SEEN_TTL_SECONDS)

    @staticmethod
    def _queue_item(session: Any, record: HandoverRecord, now: datetime,
                    names: dict[int, str]) -> dict[str, Any]:
        last = session.scalars(select(Message).where(
            Message.openid == record.openid, Message.direction == "in")
            .order_by(Message.id.desc()).limit(1)).first()
        resident = session.get(Resident, record.openid)
        return {
            "openid": record.openid, "nickname": resident.nickname if resident else None,
            "reason": record.reason, "emergency": record.reason == "emergency",
            "status": record.status, "agent_id": record.agent_id,
            "agent_name": names.get(record.agent_id or 0),
            "requested_at": record.requested_at.isoformat(),
            "wait_seconds": int((now - record.requested_at).total_seconds()),
            "off_hours": record.off_hours, "last_text": (last.text if last else "")[:60],
            "community_id": record.community_id,
        }

    # -- one conversation -------------------------------------------------------------
    def detail(self, openid: str) -> dict[str, Any]:
        state = self.handover.states.load(openid)
        names = self.users.names()
        with self.sessions() as session:
            resident = session.get(Resident, openid)
            if resident is None:
                raise NotFoundError("no_resident")
            rows = session.scalars(select(Message).where(Message.openid == openid)
                                   .order_by(Message.id.desc()).limit(HISTORY_LIMIT)).all()
            outbox = {item.message_id: item for item in session.scalars(
                select(OutboxItem).where(OutboxItem.message_id.in_([m.id for m in rows])))}
            notes = session.scalars(select(InternalNote).where(InternalNote.openid == openid)
                                    .order_by(InternalNote.id)).all()
            history = [_message_json(m, outbox.get(m.id), names) for m in reversed(rows)]
            note_list = [{"id": n.id, "author": names.get(n.author_id, "?"), "text": n.text,
                          "created_at": n.created_at.isoformat()} for n in notes]
        return {
            "openid": openid, "nickname": resident.nickname,
            "owner": state.owner, "agent_id": state.agent_id,
            "agent_name": names.get(state.agent_id or 0),
            "window": self.window(openid), "history": history, "notes": note_list,
            "resident": resident_facts(self.sessions, openid),
        }

    def window(self, openid: str) -> dict[str, Any]:
        """The customer-service window: open until 48 h after the resident's last message."""
        last = self.services.messages.last_inbound_at(openid)
        hours = self.services.config.handoff.customer_service_window_hours
        if last is None:
            return {"open": False, "closes_at": None, "remaining_seconds": 0}
        closes = last + timedelta(hours=hours)
        remaining = int((closes - utcnow()).total_seconds())
        return {"open": remaining > 0, "closes_at": closes.isoformat(),
                "remaining_seconds": max(remaining, 0)}

    # -- actions ----------------------------------------------------------------------
    def owned_state(self, openid: str, user: User) -> ConversationState:
        state = self.handover.states.load(openid)
        if state.owner != "agent" or state.agent_id != user.id:
            raise ForbiddenError("not_yours")
        return state

    def reply(self, openid: str, user: User, text: str) -> list[int]:
        """Queue the agent's reply as customer-service messages; returns their ids."""
        text = text.strip()
        if not text or len(text) > MAX_REPLY_CHARS:
            raise ConsoleError("bad_text")
        state = self.owned_state(openid, user)
        if not self.window(openid)["open"]:
            raise WindowClosedError()
        ids: list[int] = []
        with transaction(self.sessions) as session:
            for part in split_text(text):
                reply = Reply("text", part)
                message_id = MessageLog.add_outbound(
                    session, openid, reply, "custom", "queued", sender="agent",
                    conversation_id=state.conversation_id, extra={"agent_id": user.id})
                self.services.outbox.enqueue(session, openid, "custom",
                                             custom_payload(reply, openid), message_id)
                ids.append(message_id)
            self.handover.note_agent_reply(session, openid)
        self.handover.publish({"type": "agent_message", "openid": openid, "message_ids": ids})
        return ids

    def retry(self, message_id: int, user: User) -> None:
        """Send a failed message again (a fresh set of attempts), if WeChat still allows it."""
        with self.sessions() as session:
            message = session.get(Message, message_id)
            if message is None or message.direction != "out":
                raise NotFoundError("no_message")
            openid = message.openid
        if not self.window(openid)["open"]:
            raise WindowClosedError()
        with transaction(self.sessions) as session:
            message = session.get(Message, message_id)
            item = session.scalars(select(OutboxItem).where(
                OutboxItem.message_id == message_id)).first()
            if message is None or item is None or item.status == "sent":
                raise ConsoleError("not_retryable")
            item.status, item.attempts, item.next_attempt_at = "pending", 0, utcnow()
            item.last_error = None
            message.status, message.error = "queued", None
        self.services.outbox.wake()
        self.handover.publish({"type": "delivery", "openid": openid, "message_id": message_id,
                               "status": "pending"})

    def hand_back(self, openid: str, user: User) -> None:
        self.handover.hand_back(openid, user.id)
        self._tell(openid, "handback_notice")

    def close(self, openid: str, user: User) -> None:
        """A conversation an agent answered asks for a rating; one nobody answered does
        not thank the resident for a service they never got."""
        rating_id = self.handover.close(openid, user.id)
        self._tell(openid, "rating_request" if rating_id is not None else "close_unanswered")

    def transfer(self, openid: str, user: User, to_agent_id: int) -> None:
        target = self.users.get(to_agent_id)
        if target is None or not target.active or target.id == user.id:
            raise ConsoleError("bad_agent")
        self.handover.transfer(openid, user.id, target.id)

    def _tell(self, openid: str, text_name: str) -> None:
        """A bot notice to the resident; outside the window it is stored, not sent."""
        text = self.services.deps.texts(text_name)
        self.services.notifier.notify(openid, text, sender="bot")

    def add_note(self, openid: str, user: User, text: str) -> None:
        text = text.strip()
        if not text or len(text) > MAX_NOTE_CHARS:
            raise ConsoleError("bad_text")
        state = self.handover.states.load(openid)
        with transaction(self.sessions) as session:
            session.add(InternalNote(openid=openid, conversation_id=state.conversation_id,
                                     author_id=user.id, text=text))
        self.handover.publish({"type": "note", "openid": openid})

    def reveal_phone(self, openid: str, user: User) -> list[dict[str, str]]:
        """Unmasked phones of the resident's homes; every reveal is written to the audit log."""
        facts = resident_facts(self.sessions, openid, reveal=True)
        with transaction(self.sessions) as session:
            session.add(RevealAudit(user_id=user.id, openid=openid, field="phone"))
        return [{"room": r["room"], "phone": r["phone"]} for r in facts["rooms"]]


def presence_now(user: User, now: datetime) -> str:
    """Presence as last reported, unless the page stopped reporting (closed, crashed)."""
    if user.presence_at is None or now - user.presence_at > PRESENCE_TTL:
        return "offline"
    return user.presence


def _message_json(message: Message, item: OutboxItem | None,
                  names: dict[int, str]) -> dict[str, Any]:
    nlu = message.nlu or {}
    agent_id = (message.parsed or {}).get("agent_id") if message.sender == "agent" else None
    return {
        "id": message.id, "direction": message.direction, "sender": message.sender,
        "type": message.msg_type, "text": message.text, "status": message.status,
        "delivery": message.delivery, "error": message.error or (item.last_error if item else None),
        "error_text": labels.send_error(message.error or (item.last_error if item else None)),
        "attempts": item.attempts if item else 0, "needs_agent": message.needs_agent,
        "agent_name": names.get(agent_id or 0), "created_at": message.created_at.isoformat(),
        "image": (message.parsed or {}).get("PicUrl") if message.msg_type == "image" else None,
        "nlu": {"intent": nlu.get("intent"), "confidence": nlu.get("confidence"),
                "intent_name": labels.label("intents", nlu.get("intent")),
                "faq_id": nlu.get("faq_id"),
                "entities": [f"{e.get('type')}:{e.get('value')}" for e in nlu.get("entities", [])]}
        if nlu else None,
    }


def resident_facts(sessions: Any, openid: str, reveal: bool = False) -> dict[str, Any]:
    """Bound rooms (phones masked unless revealed) and tickets (phones always masked)."""
    from handlers.tickets.households import Households
    from handlers.tickets.inspect import tickets_for
    from handlers.tickets.rooms import mask_phone

    households = Households(sessions)
    rooms = []
    for room in households.rooms(openid):
        phone = households.phone(openid, room)
        rooms.append({"room": room.display, "phone": phone if reveal else mask_phone(phone)})
    tickets = []
    for ticket in tickets_for(sessions, openid)[:20]:
        tickets.append({key: ticket.get(key) for key in (
            "number", "type", "department", "priority", "state", "room", "summary")}
            | {"phone": mask_phone(str(ticket.get("phone") or "")),
               "state_name": labels.state(str(ticket.get("state") or "")),
               "type_name": labels.ticket_type(str(ticket.get("type") or ""))})
    return {"rooms": rooms, "tickets": tickets}
