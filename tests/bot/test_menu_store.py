"""The custom menu: edited in the admin page, versioned, pushed with menu/create (the
loopback fake records it), its click keys routed, and drawn by the simulator."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from bot.menu import set_live_keys
from bot.menu_store import MenuError, MenuStore, default_menu
from tests.admin.conftest import Staff


@pytest.fixture(autouse=True)
def _no_live_keys_left() -> Any:
    yield
    set_live_keys({})  # the live keys are per process: do not leak into other tests


def _form() -> dict[str, str]:
    """Two top buttons: one with sub-buttons (a new click key, a link), one click."""
    return {"b0_name": "物业服务", "b0_s0_name": "我的账单", "b0_s0_type": "click",
            "b0_s0_intent": "bill_query", "b0_s0_key": "KEY_BILLS_2",
            "b0_s1_name": "缴费指南", "b0_s1_type": "view",
            "b0_s1_url": "https://example.com/pay", "b1_name": "最近通知", "b1_type": "click",
            "b1_intent": "recent_notices", "b1_key": "", "note": "冬季版"}


def test_the_menu_pushed_equals_the_one_stored(admin_staff: Staff, services: Any,
                                               fake_wechat: Any, pusher: Any) -> None:
    response = admin_staff.form("/admin/menu", {**_form(), "action": "push"})
    assert response.status_code == 302
    store: MenuStore = services.menus
    live = store.live()
    assert live.id is not None and live.pushed_at is not None
    assert fake_wechat.menu == live.definition
    assert live.definition == {"button": [
        {"name": "物业服务", "sub_button": [
            {"type": "click", "name": "我的账单", "key": "KEY_BILLS_2"},
            {"type": "view", "name": "缴费指南", "url": "https://example.com/pay"}]},
        {"type": "click", "name": "最近通知", "key": "MENU_RECENT_NOTICES"}]}
    assert live.keys["KEY_BILLS_2"]["intent"] == "bill_query"
    # The new key means what it was mapped to.
    reply = pusher.event("o_menu", "CLICK", "KEY_BILLS_2").text
    assert "绑定" in reply or "账单" in reply
    assert "通知" in pusher.event("o_menu", "CLICK", "MENU_RECENT_NOTICES").text
    page = admin_staff.get("/admin/menu").text
    assert "冬季版" in page and "线上" in page


def test_a_saved_version_is_not_live_until_pushed_and_old_ones_can_be_pushed_again(
    services: Any, fake_wechat: Any
) -> None:
    store: MenuStore = services.menus
    first = store.save(default_menu().definition, default_menu().keys, "boss")
    store.push(first)
    second = store.save({"button": [{"type": "click", "name": "常见问题", "key": "MENU_FAQ"}]},
                        default_menu().keys, "boss")
    assert store.live().id == first and fake_wechat.menu == store.get(first).definition
    store.push(second)
    assert fake_wechat.menu == store.get(second).definition
    store.push(first)
    assert store.live().id == first and len(fake_wechat.menus) == 3


@pytest.mark.parametrize(("definition", "message"), [
    ({"button": [{"type": "click", "name": f"按钮{i}", "key": "MENU_FAQ"} for i in range(4)]},
     "一级菜单"),
    ({"button": [{"type": "click", "name": "报修报修报修报修", "key": "MENU_REPAIR"}]}, "名称"),
    ({"button": [{"type": "click", "name": "未知", "key": "NO_SUCH"}]}, "没有对应的功能"),
    ({"button": [{"type": "view", "name": "链接", "url": "ftp://x"}]}, "链接"),
    ({"button": [{"name": "组", "sub_button": [
        {"type": "click", "name": f"子{i}", "key": "MENU_FAQ"} for i in range(6)]}]}, "子菜单"),
], ids=["four-buttons", "long-name", "unmapped-key", "bad-url", "six-subs"])
def test_menus_wechat_would_refuse_are_refused(services: Any, definition: dict[str, Any],
                                               message: str) -> None:
    with pytest.raises(MenuError, match=message):
        services.menus.save(definition, default_menu().keys, "boss")


def test_the_simulator_draws_the_live_menu(services: Any, admin_staff: Staff) -> None:
    from wuye.app import create_app

    page = _simulator_page(services, create_app)
    assert 'data-key="MENU_REPAIR"' in page and "报事报修" in page  # the default menu
    admin_staff.form("/admin/menu", {**_form(), "action": "push"})
    page = _simulator_page(services, create_app)
    assert 'data-key="KEY_BILLS_2"' in page and "https://example.com/pay" in page
    assert 'data-key="MENU_REPAIR"' not in page


def _simulator_page(services: Any, create_app: Any) -> str:
    config = dataclasses.replace(services.config, server=dataclasses.replace(
        services.config.server, demo=True))
    app = create_app(config, services=services, background=False)
    return app.test_client().get("/simulator").text
