"""The community directory: each compound's name, phones, hours and duty departments."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from core.cache import SharedReads
from core.config import HandoffConfig, ServiceConfig
from core.db import reading, transaction
from core.models import Community

CODE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
HOURS = re.compile(r"^([01]\d|2[0-3]):[0-5]\d-([01]\d|2[0-4]):[0-5]\d$")
# A mention must be at least this long to count (a two-character alias like 翠湖 is fine).
MIN_ALIAS_CHARS = 2


_LIVES = r"(?:我(?:们|家)?(?:是|住在|住|家在)|住在)"
_AFTER = r"(?:小区|社区)?的?(?:业主|住户|租户)?[，,。！!？?\s]*"


@lru_cache(maxsize=32)
def _mention_pattern(full: tuple[str, ...], aliases: tuple[str, ...]) -> re.Pattern[str]:
    """A community named as where one lives (我是蓝湾雅苑的业主，/ 我住蓝湾 / 蓝湾小区的).
    A full name goes wherever it is; a short alias only where it stands for the
    community, not inside a longer name (翠湖中心 is an office tower, not 翠湖)."""
    names = "|".join(re.escape(n) for n in full)
    parts = [rf"{_LIVES}?(?:{names}){_AFTER}"] if full else []
    if aliases:
        short = "|".join(re.escape(n) for n in aliases)
        parts += [rf"{_LIVES}?(?:{short})(?:(?=[的小业住，,。！!？?\s]){_AFTER}|$)",
                  rf"{_LIVES}(?:{short})[，,。\s]*"]
    return re.compile("|".join(parts))


class CommunityError(ValueError):
    """A community cannot be created or changed as asked; the message says why."""


@dataclass(frozen=True)
class CommunityInfo:
    """A detached copy of one community: what replies, hours and scopes are built from."""

    id: int
    code: str
    name: str
    hotline: str = ""
    emergency_phone: str = ""
    weekday_hours: str = "09:00-18:00"
    weekend_hours: str = "09:00-17:30"
    holidays: str = ""
    address: str = ""
    aliases: tuple[str, ...] = ()
    duty_departments: tuple[str, ...] = field(default_factory=tuple)
    active: bool = True

    @classmethod
    def of(cls, row: Community) -> CommunityInfo:
        return cls(id=row.id, code=row.code, name=row.name, hotline=row.hotline,
                   emergency_phone=row.emergency_phone, weekday_hours=row.weekday_hours,
                   weekend_hours=row.weekend_hours, holidays=row.holidays or "",
                   address=row.address or "", aliases=tuple(row.aliases or ()),
                   duty_departments=tuple(row.duty_departments or ()), active=row.active)

    @property
    def names(self) -> tuple[str, ...]:
        """Every way residents write it, longest first (for finding a mention)."""
        found = {self.name, *self.aliases}
        return tuple(sorted((n for n in found if len(n) >= MIN_ALIAS_CHARS), key=len,
                            reverse=True))

    def text_values(self) -> dict[str, str]:
        """The placeholders every reply text may use."""
        return {"property_name": self.name, "hotline": self.hotline,
                "emergency_phone": self.emergency_phone, "weekday_hours": self.weekday_hours,
                "weekend_hours": self.weekend_hours, "community_address": self.address}

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "code": self.code, "name": self.name, "address": self.address,
                "hotline": self.hotline, "emergency_phone": self.emergency_phone,
                "weekday_hours": self.weekday_hours, "weekend_hours": self.weekend_hours,
                "holidays": self.holidays, "aliases": list(self.aliases),
                "duty_departments": list(self.duty_departments), "active": self.active}


def _check_hours(value: str, key: str) -> str:
    value = value.strip().replace("：", ":").replace("—", "-").replace("~", "-")
    if not HOURS.match(value):
        raise CommunityError(f"{key}: expected HH:MM-HH:MM, got {value!r}")
    return value


# Communities change rarely (an admin's edit) and a push reads them several times
# (whose turn, which name was mentioned, which texts): readers share one snapshot per
# database. A write through this class replaces it at once in this process; other
# processes (a CLI, the other web workers) see the change within this many seconds.
SNAPSHOT_SECONDS = 2.0
_SNAPSHOT: SharedReads[None, tuple[CommunityInfo, ...]] = SharedReads(SNAPSHOT_SECONDS)


class Communities:
    """Reads and writes communities; every reader gets CommunityInfo copies."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def _all(self) -> tuple[CommunityInfo, ...]:
        """Every community, from the shared snapshot (read again once it is stale)."""
        return _SNAPSHOT.get(self.sessions, None, self._read_all)

    def _read_all(self) -> tuple[CommunityInfo, ...]:
        with reading(self.sessions) as session:
            return tuple(CommunityInfo.of(row) for row in
                         session.scalars(select(Community).order_by(Community.id)))

    def _changed(self) -> None:
        """A write through this process: the next reader reads the table again."""
        _SNAPSHOT.drop(self.sessions)

    def list(self, active_only: bool = False) -> list[CommunityInfo]:
        return [c for c in self._all() if c.active or not active_only]

    def get(self, community_id: int | None) -> CommunityInfo | None:
        if community_id is None:
            return None
        return next((c for c in self._all() if c.id == community_id), None)

    def by_code(self, code: str) -> CommunityInfo | None:
        return next((c for c in self._all() if c.code == code), None)

    def require(self, code: str) -> CommunityInfo:
        """The community with this code, or a CommunityError naming the known codes."""
        found = self.by_code(code)
        if found is None:
            known = ", ".join(c.code for c in self.list()) or "-"
            raise CommunityError(f"unknown community {code!r} (known: {known})")
        return found

    def first(self) -> CommunityInfo | None:
        found = self.list(active_only=True)
        return found[0] if found else None

    def add(self, code: str, name: str, *, hotline: str = "", emergency_phone: str = "",
            weekday_hours: str = "09:00-18:00", weekend_hours: str = "09:00-17:30",
            holidays: str = "", address: str = "", aliases: Iterable[str] = (),
            duty_departments: Iterable[str] = ()) -> CommunityInfo:
        """Create a community; the code is how files and commands name it."""
        code = code.strip().lower()
        if not CODE.match(code):
            raise CommunityError("code: lowercase letters, digits, - and _ only (max 32)")
        if not name.strip():
            raise CommunityError("name: must not be empty")
        row = Community(code=code, name=name.strip()[:64], hotline=hotline.strip(),
                        emergency_phone=emergency_phone.strip(),
                        weekday_hours=_check_hours(weekday_hours, "weekday_hours"),
                        weekend_hours=_check_hours(weekend_hours, "weekend_hours"),
                        holidays=holidays.strip(), address=address.strip(),
                        aliases=[a.strip() for a in aliases if a.strip()],
                        duty_departments=[d.strip() for d in duty_departments if d.strip()])
        try:
            with transaction(self.sessions) as session:
                session.add(row)
                session.flush()
                created = CommunityInfo.of(row)
        except IntegrityError:
            raise CommunityError(f"community {code} already exists") from None
        finally:
            self._changed()
        return created

    def ensure_first(self, service: ServiceConfig, handoff: HandoffConfig) -> CommunityInfo:
        """A fresh install gets its first community from the configured defaults."""
        existing = self.first()
        if existing is not None:
            return existing
        try:
            return self.add(service.community_code, service.property_name,
                            hotline=service.hotline, emergency_phone=service.emergency_phone,
                            weekday_hours=service.weekday_hours,
                            weekend_hours=service.weekend_hours, holidays=handoff.holidays,
                            address=service.address)
        except CommunityError:
            found = self.first()  # another process created it at the same moment
            if found is None:
                raise
            return found

    def update(self, code: str, **values: Any) -> CommunityInfo:
        """Change some of a community's facts (name, phones, hours, aliases...)."""
        allowed = {"name", "hotline", "emergency_phone", "weekday_hours", "weekend_hours",
                   "holidays", "address", "aliases", "duty_departments", "active"}
        unknown = set(values) - allowed
        if unknown:
            raise CommunityError(f"{sorted(unknown)[0]}: not a community setting")
        for key in ("weekday_hours", "weekend_hours"):
            if key in values:
                values[key] = _check_hours(str(values[key]), key)
        with transaction(self.sessions) as session:
            row = session.scalars(select(Community).where(Community.code == code)).first()
            if row is None:
                raise CommunityError(f"unknown community {code!r}")
            for key, value in values.items():
                setattr(row, key, list(value) if key in ("aliases", "duty_departments")
                        else value)
            session.flush()
            updated = CommunityInfo.of(row)
        self._changed()
        return updated

    def mentioned(self, text: str) -> CommunityInfo | None:
        """The one community whose name or alias the text contains (None if none or two)."""
        found = {c.id: c for c in self.list(active_only=True)
                 if any(name in text for name in c.names)}
        return next(iter(found.values())) if len(found) == 1 else None

    def without_mentions(self, text: str) -> str:
        """The text with "I live in …" left out: the NLU decides by topic, and a
        community's name says nothing about the topic (it only confuses it)."""
        known = self.list(active_only=True)
        full = tuple(sorted({c.name for c in known}, key=len, reverse=True))
        aliases = tuple(sorted({a for c in known for a in c.names} - set(full), key=len,
                               reverse=True))
        if not full:
            return text
        stripped = _mention_pattern(full, aliases).sub("", text).strip()
        return stripped or text

    def names(self) -> list[str]:
        """Every community's names and aliases: data for the NLU (a name is not a topic)."""
        return sorted({n for c in self.list(active_only=True) for n in c.names})
