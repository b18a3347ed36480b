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
    # the knowledge loop (admin/kb_audit.py)
    "faq.bulk_enabled": "批量启用/停用知识库条目",
    "faq.rollback": "回滚知识库条目",
    "faq.import": "导入知识库",
    "faq.answer_from_reply": "客服回复存为答案",
    "queue.add_similar": "未解决问题加入相似问法",
    "queue.dismiss": "忽略未解决问题",
    "retrain.start": "重新训练模型",
    "retrain.force_deploy": "强制上线模型",
    "notice.create": "发布通知公告",
    "notice.cancel": "取消通知公告",
    "menu.save": "保存自定义菜单",
    "menu.push": "发布自定义菜单",
    "welcome.save": "设置猜你想问",
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
