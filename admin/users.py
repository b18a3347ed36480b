"""Console accounts behind a narrow interface: hashed passwords, roles, presence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.security import check_password_hash, generate_password_hash

from core.db import transaction, utcnow
from core.models.console import ConsoleUser

ROLES = ("agent", "admin", "staff")  # staff: department workers (部门员工)
PRESENCES = ("online", "away", "offline")
MIN_PASSWORD_CHARS = 8
_USERNAME_CHARS = set("abcdefghijklmnopqrstuvwxyz0123456789_.-")
# Compared against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASH = generate_password_hash("not-a-real-password")


class UserError(ValueError):
    """A user cannot be created or changed as asked; the message is shown to admins."""


@dataclass(frozen=True)
class User:
    """A detached copy of an account: what requests and templates see."""

    id: int
    username: str
    display_name: str
    role: str
    active: bool
    presence: str
    presence_at: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_staff(self) -> bool:
        """A department worker: works tickets on the mobile page, not the chat console."""
        return self.role == "staff"

    @property
    def name(self) -> str:
        return self.display_name or self.username

    @classmethod
    def of(cls, row: ConsoleUser) -> User:
        return cls(id=row.id, username=row.username, display_name=row.display_name,
                   role=row.role, active=row.active, presence=row.presence,
                   presence_at=row.presence_at)


class UserStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def create(self, username: str, password: str, role: str, display_name: str = "") -> User:
        username = username.strip().lower()
        if not username or not set(username) <= _USERNAME_CHARS or len(username) > 64:
            raise UserError("用户名只能包含小写字母、数字、点、下划线和连字符")
        if role not in ROLES:
            raise UserError(f"角色必须是 {'、'.join(ROLES)} 之一")
        if len(password) < MIN_PASSWORD_CHARS:
            raise UserError(f"密码至少 {MIN_PASSWORD_CHARS} 位")
        try:
            with transaction(self.sessions) as session:
                row = ConsoleUser(username=username, display_name=display_name.strip()[:64],
                                  password_hash=generate_password_hash(password), role=role)
                session.add(row)
                session.flush()
                return User.of(row)
        except IntegrityError:
            raise UserError(f"用户 {username} 已存在") from None

    def authenticate(self, username: str, password: str) -> User | None:
        with self.sessions() as session:
            row = session.scalars(select(ConsoleUser).where(
                ConsoleUser.username == username.strip().lower())).first()
            if row is None:
                check_password_hash(_DUMMY_HASH, password)
                return None
            if not check_password_hash(row.password_hash, password) or not row.active:
                return None
            return User.of(row)

    def get(self, user_id: int) -> User | None:
        with self.sessions() as session:
            row = session.get(ConsoleUser, user_id)
            return User.of(row) if row is not None else None

    def list(self) -> list[User]:
        with self.sessions() as session:
            return [User.of(r) for r in session.scalars(select(ConsoleUser)
                                                        .order_by(ConsoleUser.id))]

    def names(self) -> dict[int, str]:
        return {user.id: user.name for user in self.list()}

    def set_presence(self, user_id: int, presence: str) -> None:
        if presence not in PRESENCES:
            raise UserError("presence must be online, away or offline")
        with transaction(self.sessions) as session:
            row = session.get(ConsoleUser, user_id)
            if row is not None:
                row.presence, row.presence_at = presence, utcnow()

    def set_active(self, user_id: int, active: bool) -> None:
        with transaction(self.sessions) as session:
            row = session.get(ConsoleUser, user_id)
            if row is None:
                raise UserError("用户不存在")
            row.active = active
            if not active:
                row.presence = "offline"

    def set_role(self, user_id: int, role: str) -> User:
        if role not in ROLES:
            raise UserError(f"角色必须是 {' 或 '.join(ROLES)}")
        with transaction(self.sessions) as session:
            row = session.get(ConsoleUser, user_id)
            if row is None:
                raise UserError("用户不存在")
            row.role = role
            return User.of(row)

    def set_password(self, user_id: int, password: str) -> User:
        if len(password) < MIN_PASSWORD_CHARS:
            raise UserError(f"密码至少 {MIN_PASSWORD_CHARS} 位")
        with transaction(self.sessions) as session:
            row = session.get(ConsoleUser, user_id)
            if row is None:
                raise UserError("用户不存在")
            row.password_hash = generate_password_hash(password)
            return User.of(row)
