"""Departments and the staff who work in them: heads dispatch, workers accept and do."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from core.db import transaction, utcnow
from core.models.console import ConsoleUser
from core.models.desk import Department, StaffMember


class StaffError(ValueError):
    """A membership change that cannot be made; the message is shown to admins."""


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    department: str
    is_head: bool
    wechat_bound: bool
    presence: str = "offline"


class Staff:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def departments(self) -> list[dict[str, str]]:
        with self.sessions() as session:
            rows = session.scalars(select(Department).where(Department.active.is_(True))
                                   .order_by(Department.id))
            return [{"name": d.name, "duties": d.duties} for d in rows]

    def department_names(self) -> list[str]:
        return [d["name"] for d in self.departments()]

    def assign(self, user_id: int, department: str, is_head: bool = False) -> None:
        """Put a user in a department (or move them); one department per person."""
        with transaction(self.sessions) as session:
            found = session.scalars(select(Department).where(Department.name == department)) \
                .first()
            if found is None:
                raise StaffError(f"未知部门：{department}")
            if session.get(ConsoleUser, user_id) is None:
                raise StaffError("用户不存在")
            row = session.get(StaffMember, user_id)
            if row is None:
                row = StaffMember(user_id=user_id, department_id=found.id)
                session.add(row)
            row.department_id, row.is_head = found.id, is_head

    def member(self, user_id: int) -> Member | None:
        with self.sessions() as session:
            found = self._members(session, StaffMember.user_id == user_id)
            return found[0] if found else None

    def members(self, department: str | None = None) -> list[Member]:
        with self.sessions() as session:
            clause = Department.name == department if department else None
            return self._members(session, clause)

    def heads(self, department: str) -> list[int]:
        return [m.user_id for m in self.members(department) if m.is_head]

    def supervisors(self) -> list[int]:
        """客服主管: every active admin."""
        with self.sessions() as session:
            return list(session.scalars(select(ConsoleUser.id).where(
                ConsoleUser.role == "admin", ConsoleUser.active.is_(True))))

    def bind_wechat(self, user_id: int, openid: str) -> None:
        """Link the worker's own WeChat; an openid bound to someone else moves to them."""
        with transaction(self.sessions) as session:
            row = session.get(StaffMember, user_id)
            if row is None:
                raise StaffError("只有部门员工可以绑定微信")
            for other in session.scalars(select(StaffMember).where(
                    StaffMember.wechat_openid == openid, StaffMember.user_id != user_id)):
                other.wechat_openid, other.bound_at = None, None
            session.flush()
            row.wechat_openid, row.bound_at = openid, utcnow()

    def wechat_openid(self, user_id: int) -> str | None:
        with self.sessions() as session:
            row = session.get(StaffMember, user_id)
            return row.wechat_openid if row is not None else None

    @staticmethod
    def _members(session: Session, clause: object) -> list[Member]:
        query = select(StaffMember, ConsoleUser, Department) \
            .join(ConsoleUser, ConsoleUser.id == StaffMember.user_id) \
            .join(Department, Department.id == StaffMember.department_id) \
            .where(ConsoleUser.active.is_(True)).order_by(ConsoleUser.id)
        if clause is not None:
            query = query.where(clause)  # type: ignore[arg-type]
        return [Member(user_id=u.id, name=u.display_name or u.username, department=d.name,
                       is_head=m.is_head, wechat_bound=bool(m.wechat_openid),
                       presence=u.presence)
                for m, u, d in session.execute(query)]
