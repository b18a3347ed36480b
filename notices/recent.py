"""The notices a resident may ask the bot for (最近有什么通知): no sending here, so the
handlers can read it without depending on the WeChat edge."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from core.db import utcnow
from core.models.knowledge_loop import Notice, NoticeDelivery


def recent_for(sessions: sessionmaker[Session], openid: str, community_id: int | None,
               limit: int = 3, days: int = 30) -> list[Notice]:
    """Sent notices this resident received, or sent to all or to their whole community."""
    since = utcnow() - timedelta(days=days)
    mine = select(NoticeDelivery.notice_id).where(NoticeDelivery.openid == openid)
    query = select(Notice).where(Notice.status == "sent", Notice.sent_at >= since).where(
        or_(Notice.id.in_(mine), Notice.target == "all",
            (Notice.target == "community") & (Notice.community_id == community_id)))
    with sessions() as session:
        return list(session.scalars(query.order_by(Notice.sent_at.desc()).limit(limit)))
