"""Compose, target, schedule and send notices; follow WeChat's delivery reports.

A notice goes to the residents bound to homes it targets (a community, a building,
a unit, a room, or everyone), as one template message each through the durable
outbox. WeChat limits template sends per second, so the copies are spread out:
each outbox item's first attempt is scheduled one slot after the previous one,
slots continuing after any template sends still waiting. WeChat later pushes a
TEMPLATESENDJOBFINISH event per copy; it is stored like every push, and matched
here to the copy by the msgid the send returned.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.messages import MessageLog
from bot.outbox import Outbox
from bot.replies import Reply
from bot.wechat_api import template_message
from core.config import Config
from core.db import transaction, utcnow
from core.models import Message, OutboxItem, Resident, RoomBinding
from core.models.knowledge_loop import Notice, NoticeDelivery, ScanCursor

TARGETS = ("all", "community", "building", "unit", "room")
TARGET_LABELS = {"all": "全部已绑定业主", "community": "整个小区", "building": "楼栋",
                 "unit": "单元", "room": "房屋"}
MAX_TITLE = 64
MAX_BODY = 1000
REPORT_EVENT = "event:templatesendjobfinish"


class NoticeError(ValueError):
    """A notice that cannot be saved or sent; the message is shown to the admin."""


@dataclass(frozen=True)
class Draft:
    title: str
    body: str
    target: str
    target_value: str = ""
    community_id: int | None = None
    url: str = ""
    scheduled_at: datetime | None = None


def check(draft: Draft) -> None:
    """Refuse what cannot be sent, with a message in the admins' words."""
    if not draft.title.strip() or len(draft.title) > MAX_TITLE:
        raise NoticeError(f"标题不能为空，且不超过 {MAX_TITLE} 字")
    if not draft.body.strip() or len(draft.body) > MAX_BODY:
        raise NoticeError(f"正文不能为空，且不超过 {MAX_BODY} 字")
    if draft.target not in TARGETS:
        raise NoticeError("请选择发送范围")
    if draft.target != "all" and draft.community_id is None:
        raise NoticeError("请选择小区")
    parts = {"building": 1, "unit": 2, "room": 3}.get(draft.target)
    value = draft.target_value.strip()
    if parts and (len(value.split("-")) != parts or not all(value.split("-"))):
        example = {1: "3", 2: "3-2", 3: "3-2-502"}[parts]
        raise NoticeError(f"{TARGET_LABELS[draft.target]}编号格式如 {example}")
    if draft.url and not draft.url.startswith(("http://", "https://")):
        raise NoticeError("链接须以 http:// 或 https:// 开头")


class NoticeService:
    """Everything about notices apart from HTTP."""

    def __init__(self, sessions: sessionmaker[Session], outbox: Outbox, config: Config) -> None:
        self.sessions = sessions
        self.outbox = outbox
        self.config = config

    # -- composing ---------------------------------------------------------------------
    def create(self, draft: Draft, by: str) -> int:
        check(draft)
        if not self.config.knowledge.notice_template_id:
            raise NoticeError("尚未配置通知模板（knowledge.notice_template_id），无法发送模板消息")
        status = "scheduled" if draft.scheduled_at and draft.scheduled_at > utcnow() else "draft"
        with transaction(self.sessions) as session:
            notice = Notice(title=draft.title.strip(), body=draft.body.strip(),
                            target=draft.target, target_value=draft.target_value.strip(),
                            community_id=draft.community_id if draft.target != "all" else None,
                            url=draft.url.strip(), scheduled_at=draft.scheduled_at,
                            status=status, created_by=by)
            session.add(notice)
            session.flush()
            return notice.id

    def get(self, notice_id: int) -> Notice | None:
        with self.sessions() as session:
            return session.get(Notice, notice_id)

    def history(self, limit: int = 50) -> list[Notice]:
        with self.sessions() as session:
            return list(session.scalars(select(Notice).order_by(Notice.id.desc()).limit(limit)))

    def cancel(self, notice_id: int) -> bool:
        with transaction(self.sessions) as session:
            notice = session.get(Notice, notice_id)
            if notice is None or notice.status not in ("draft", "scheduled"):
                return False
            notice.status = "cancelled"
            return True

    # -- targeting ---------------------------------------------------------------------
    def recipients(self, notice: Notice | Draft) -> list[str]:
        """Openids of following residents bound to a targeted home, each once."""
        query = select(RoomBinding.openid).join(
            Resident, Resident.openid == RoomBinding.openid).where(Resident.following.is_(True))
        if notice.target != "all":
            query = query.where(RoomBinding.community_id == notice.community_id)
        value = notice.target_value.strip()
        if notice.target in ("building", "unit"):
            query = query.where(RoomBinding.room_key.startswith(f"{value}-", autoescape=True))
        elif notice.target == "room":
            query = query.where(RoomBinding.room_key == value)
        with self.sessions() as session:
            return list(dict.fromkeys(session.scalars(query.order_by(RoomBinding.openid))))

    def payload(self, notice: Notice | Draft, openid: str) -> dict[str, Any]:
        when = (getattr(notice, "scheduled_at", None) or utcnow()).astimezone()
        return template_message(openid, self.config.knowledge.notice_template_id, {
            "first": notice.title, "keyword1": notice.body,
            "keyword2": when.strftime("%Y-%m-%d %H:%M"),
            "remark": "如有疑问请在公众号留言，或致电物业服务中心。"}, notice.url or None)

    # -- sending -----------------------------------------------------------------------
    def send(self, notice_id: int) -> int:
        """Queue one template message per recipient, spread to the rate limit."""
        # A conditional UPDATE claims the notice: of two processes (or two clicks)
        # only one sees its row change, so a notice is never sent twice.
        with transaction(self.sessions) as session:
            claimed = session.execute(update(Notice).where(
                Notice.id == notice_id, Notice.status.in_(("draft", "scheduled")))
                .values(status="sending").execution_options(synchronize_session=False))
            if claimed.rowcount != 1:  # type: ignore[attr-defined]
                return 0
            notice = session.get(Notice, notice_id)
        if notice is None:
            return 0
        recipients = self.recipients(notice)
        gap = timedelta(seconds=1 / self.config.knowledge.notice_rate_per_second)
        with transaction(self.sessions) as session:
            slot = self._first_free_slot(session)
            for openid in recipients:
                reply = Reply("text", f"【{notice.title}】{notice.body}")
                message_id = MessageLog.add_outbound(session, openid, reply, "template",
                                                     "queued")
                item = self.outbox.enqueue(session, openid, "template",
                                           self.payload(notice, openid), message_id,
                                           key=f"notice:{notice_id}:{openid}")
                item.next_attempt_at = slot
                slot += gap
                session.flush()
                session.add(NoticeDelivery(notice_id=notice_id, openid=openid,
                                           community_id=notice.community_id,
                                           outbox_id=item.id, status="queued"))
            row = session.get(Notice, notice_id)
            if row is not None:
                row.status, row.sent_at = "sent", utcnow()
        return len(recipients)

    def _first_free_slot(self, session: Session) -> datetime:
        """After the last template send still waiting: rates hold across notices."""
        now = utcnow()
        last = session.scalar(select(func.max(OutboxItem.next_attempt_at)).where(
            OutboxItem.kind == "template", OutboxItem.status == "pending"))
        if last is None or last < now:
            return now
        return last + timedelta(seconds=1 / self.config.knowledge.notice_rate_per_second)

    def send_due(self) -> int:
        """Send the scheduled notices whose time has come (the scheduler's tick)."""
        with self.sessions() as session:
            due = list(session.scalars(select(Notice.id).where(
                Notice.status == "scheduled", Notice.scheduled_at <= utcnow())))
        return sum(self.send(notice_id) for notice_id in due)

    # -- delivery ----------------------------------------------------------------------
    def sync(self) -> int:
        """Apply outbox outcomes and WeChat's delivery reports; returns reports read."""
        self._sync_outbox()
        return self._sync_reports()

    def _sync_outbox(self) -> None:
        with transaction(self.sessions) as session:
            rows = session.execute(select(NoticeDelivery, OutboxItem.status).join(
                OutboxItem, OutboxItem.id == NoticeDelivery.outbox_id).where(
                NoticeDelivery.status == "queued",
                OutboxItem.status.in_(("sent", "failed", "ambiguous")))).all()
            for delivery, status in rows:
                # ambiguous: the outbox could not tell whether WeChat took it, and will
                # not resend; counted as failed until WeChat's report says otherwise.
                delivery.status = "sent" if status == "sent" else "failed"

    def _sync_reports(self) -> int:
        with transaction(self.sessions) as session:
            cursor = session.get(ScanCursor, "notice_reports", with_for_update=True)
            if cursor is None:
                cursor = ScanCursor(name="notice_reports", last_id=0)
                session.add(cursor)
            events = list(session.scalars(select(Message).where(
                Message.id > cursor.last_id, Message.msg_type == REPORT_EVENT)
                .order_by(Message.id).limit(1000)))
            for event in events:
                self._apply_report(session, event)
            if events:
                cursor.last_id = events[-1].id
        return len(events)

    @staticmethod
    def _apply_report(session: Session, event: Message) -> None:
        fields = event.parsed or {}
        msgid, status = str(fields.get("MsgID") or fields.get("MsgId") or ""), \
            str(fields.get("Status") or "")
        if not msgid:
            return
        delivery = session.scalars(select(NoticeDelivery).join(
            OutboxItem, OutboxItem.id == NoticeDelivery.outbox_id).where(
            OutboxItem.wechat_msgid == msgid, OutboxItem.openid == event.openid)).first()
        if delivery is not None:
            delivery.status = "delivered" if status == "success" else "failed"
            delivery.report = status[:64]

    def counts(self, notice_id: int) -> dict[str, int]:
        with self.sessions() as session:
            rows = session.execute(select(NoticeDelivery.status, func.count()).where(
                NoticeDelivery.notice_id == notice_id).group_by(NoticeDelivery.status)).all()
        counts = {"queued": 0, "sent": 0, "delivered": 0, "failed": 0}
        counts.update({status: int(n) for status, n in rows})
        counts["total"] = sum(counts.values())
        return counts
