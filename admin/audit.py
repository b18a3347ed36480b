"""The audit log of admin actions: written with every change an admin makes, read on a page."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from admin.users import User
from core.db import transaction
from core.models.console import AuditEntry

# What each action is called on the audit page (staff's language).
ACTIONS = {
    "user.create": "新增用户",
    "user.activate": "启用用户",
    "user.deactivate": "停用用户",
    "user.role": "修改角色",
    "user.password": "重置密码",
    "user.sessions": "强制下线",
    "user.communities": "调整负责小区",
    "canned.save": "保存快捷回复",
    "canned.delete": "删除快捷回复",
    "faq.save": "保存知识库条目",
    "faq.enabled": "启用/停用知识库条目",
}


def record(sessions: sessionmaker[Session], actor: User, action: str, target: str = "",
           detail: str = "", address: str = "") -> None:
    """Write one entry; its own transaction, so a refused change is still on record."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    with transaction(sessions) as session:
        session.add(AuditEntry(actor_id=actor.id, actor=actor.username, action=action,
                               target=target[:128], detail=detail[:500],
                               address=address[:64]))


def recent(sessions: sessionmaker[Session], limit: int = 200) -> list[AuditEntry]:
    with sessions() as session:
        return list(session.scalars(select(AuditEntry)
                                    .order_by(AuditEntry.id.desc()).limit(limit)))
