"""The custom menu (自定义菜单): versions admins edit, checked against WeChat's rules and
our intents, pushed with menu/create; the pushed one is the live menu.

Each click key maps to an intent (what tapping it starts, as in menu.yaml); a view
button opens its URL. Saving makes a new version; pushing sends one version to
WeChat and, once accepted, its keys become the live ones in every process.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bot.menu import menu_table, set_live_keys
from bot.wechat_api import WechatApi, WechatApiError
from core.db import transaction, utcnow
from core.models.knowledge_loop import MenuVersion
from handlers.intents import INTENT_ACTIONS, MENU_INTENT_ACTIONS

MAX_BUTTONS, MAX_SUBS = 3, 5
# WeChat counts bytes: 16 for a top-level name, 60 for a sub-button's, 128 for a key.
MAX_TOP_BYTES, MAX_SUB_BYTES, MAX_KEY_BYTES = 16, 60, 128
INTENTS = tuple(sorted({*INTENT_ACTIONS, *MENU_INTENT_ACTIONS} - {"emergency"}))


class MenuError(ValueError):
    """A menu WeChat would refuse or the bot could not act on; shown to the admin."""


@dataclass(frozen=True)
class MenuView:
    """One version as the pages show it."""

    id: int | None
    definition: dict[str, Any]
    keys: dict[str, dict[str, Any]]
    pushed_at: Any = None
    push_error: str | None = None
    created_by: str = "system"
    note: str = ""


def default_menu() -> MenuView:
    table = menu_table()
    return MenuView(None, copy.deepcopy(table["default_menu"]), dict(table["buttons"]))


def validate(definition: dict[str, Any], keys: dict[str, dict[str, Any]]) -> None:
    """WeChat's limits, and every click key mapped to one of our intents."""
    buttons = definition.get("button")
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise MenuError(f"一级菜单须为 1-{MAX_BUTTONS} 个")
    for top in buttons:
        _check_name(top.get("name", ""), MAX_TOP_BYTES, "一级菜单")
        subs = top.get("sub_button")
        if subs:
            if len(subs) > MAX_SUBS:
                raise MenuError(f"「{top['name']}」的子菜单最多 {MAX_SUBS} 个")
            for sub in subs:
                _check_name(sub.get("name", ""), MAX_SUB_BYTES, "子菜单")
                _check_action(sub, keys)
        else:
            _check_action(top, keys)


def _check_name(name: str, limit: int, label: str) -> None:
    if not name.strip() or len(name.encode("utf-8")) > limit:
        raise MenuError(f"{label}名称不能为空，且不超过 {limit // 3} 个汉字：{name}")


def _check_action(button: dict[str, Any], keys: dict[str, dict[str, Any]]) -> None:
    kind = button.get("type")
    if kind == "click":
        key = str(button.get("key") or "")
        if not key or len(key.encode("utf-8")) > MAX_KEY_BYTES:
            raise MenuError(f"「{button['name']}」缺少点击事件编码")
        if keys.get(key, {}).get("intent") not in INTENTS:
            raise MenuError(f"「{button['name']}」的编码 {key} 没有对应的功能")
    elif kind == "view":
        if not str(button.get("url") or "").startswith(("http://", "https://")):
            raise MenuError(f"「{button['name']}」的链接须以 http:// 或 https:// 开头")
    else:
        raise MenuError(f"「{button.get('name')}」的类型只能是点击或链接")


def _used_keys(definition: dict[str, Any]) -> set[str]:
    found = set()
    for top in definition.get("button", []):
        for button in top.get("sub_button") or [top]:
            if button.get("type") == "click":
                found.add(str(button["key"]))
    return found


class MenuStore:
    """Versions of the menu, and the push to WeChat."""

    def __init__(self, sessions: sessionmaker[Session], api: WechatApi) -> None:
        self.sessions = sessions
        self.api = api

    def save(self, definition: dict[str, Any], keys: dict[str, dict[str, Any]], by: str,
             note: str = "", community_id: int | None = None) -> int:
        validate(definition, keys)
        used = {k: keys[k] for k in _used_keys(definition)}
        with transaction(self.sessions) as session:
            row = MenuVersion(definition=definition, keys=used, created_by=by, note=note[:200],
                              community_id=community_id)
            session.add(row)
            session.flush()
            return row.id

    def versions(self, limit: int = 30) -> list[MenuView]:
        with self.sessions() as session:
            rows = session.scalars(select(MenuVersion).order_by(MenuVersion.id.desc())
                                   .limit(limit)).all()
            return [_view(r) for r in rows]

    def get(self, version_id: int) -> MenuView | None:
        with self.sessions() as session:
            row = session.get(MenuVersion, version_id)
            return _view(row) if row is not None else None

    def latest(self) -> MenuView:
        """The newest saved version (what the editor starts from), else the default."""
        versions = self.versions(1)
        return versions[0] if versions else default_menu()

    def live(self) -> MenuView:
        """The version WeChat shows: the last one pushed, else the default."""
        with self.sessions() as session:
            row = session.scalars(select(MenuVersion).where(MenuVersion.pushed_at.is_not(None))
                                  .order_by(MenuVersion.pushed_at.desc(),
                                            MenuVersion.id.desc()).limit(1)).first()
            return _view(row) if row is not None else default_menu()

    def push(self, version_id: int) -> None:
        """menu/create with the stored definition; the version is live once WeChat accepts."""
        view = self.get(version_id)
        if view is None:
            raise MenuError("找不到该菜单版本")
        try:
            self.api.create_menu(view.definition)
        except WechatApiError as exc:
            self._mark(version_id, error=f"{exc.errcode} {exc.errmsg}")
            raise MenuError(f"微信拒绝了菜单：{exc.errcode} {exc.errmsg}") from None
        self._mark(version_id, error=None)
        self.refresh_live_keys()

    def _mark(self, version_id: int, error: str | None) -> None:
        with transaction(self.sessions) as session:
            row = session.get(MenuVersion, version_id)
            if row is not None:
                row.push_error = error
                if error is None:
                    row.pushed_at = utcnow()

    def refresh_live_keys(self) -> None:
        """Make this process route the live menu's click keys (called periodically)."""
        set_live_keys(self.live().keys)


def _view(row: MenuVersion) -> MenuView:
    return MenuView(row.id, dict(row.definition), dict(row.keys or {}), row.pushed_at,
                    row.push_error, row.created_by, row.note)
