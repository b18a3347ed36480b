"""The WeChat simulator: a phone-like page that talks to `/wechat` exactly as WeChat does.

The page posts what a person types; this blueprint then plays WeChat's server:
it builds the push XML, signs it (and encrypts it in safe mode) and POSTs it
over real HTTP to this app's own `/wechat`, so every push takes the production
path. Customer-service messages sent later reach the loopback fake WeChat API
(demo mode), and the page polls them from here.
"""

from __future__ import annotations

import re
import secrets
from typing import Any

import requests
from flask import Blueprint, Response, current_app, jsonify, render_template, request

from bot.menu import button
from bot.menu_store import default_menu
from bot.push import PushResult, WechatPusher

bp = Blueprint(
    "simulator",
    __name__,
    template_folder="templates",
    static_folder="static",
    static_url_path="/simulator/static",
)

OPENID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
EVENTS = frozenset({"subscribe", "unsubscribe"})
MAX_CONTENT = 2000
# WeChat waits 5 s for a passive reply; leave room for a slow first model load.
PUSH_TIMEOUT_SECONDS = 15.0


class SimulatorError(Exception):
    """A request the simulator cannot carry out; `code` is looked up in the page's texts."""

    status = 400

    def __init__(self, code: str, status: int | None = None, **details: Any) -> None:
        super().__init__(code)
        self.code = code
        self.details = details
        if status is not None:
            self.status = status


@bp.errorhandler(SimulatorError)
def _simulator_error(exc: SimulatorError) -> tuple[Response, int]:
    return jsonify(error=exc.code, **exc.details), exc.status


def _services() -> Any:
    return current_app.extensions["wuye"]


@bp.get("/simulator")
def page() -> str:
    """The phone-like chat page."""
    config = _services().config
    menus = _services().menus
    return render_template(
        "simulator.html",
        property_name=config.service.property_name,
        personas=current_app.extensions.get("wuye_personas", []),
        encrypted=bool(config.wechat.aes_key),
        has_fake=_services().fake_wechat is not None,
        menu=(menus.live() if menus is not None else default_menu()).definition,
    )


@bp.post("/simulator/api/send")
def send() -> Response:
    """Push one message or event to /wechat as WeChat would; return the passive replies."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise SimulatorError("bad_json")
    openid = _openid(data.get("openid"))
    result = _push(_pusher(), openid, str(data.get("kind") or "text"), data)
    if result.status_code != 200:
        raise SimulatorError("webhook_status", 502, status=result.status_code)
    return jsonify(replies=[_reply_json(r) for r in result.replies],
                   encrypted=bool(_services().config.wechat.aes_key))


@bp.get("/simulator/api/messages")
def messages() -> Response:
    """Customer-service and template messages the fake WeChat API received for one openid."""
    openid = _openid(request.args.get("openid"))
    try:
        after = max(int(request.args.get("after", "0")), 0)
    except ValueError:
        raise SimulatorError("bad_after") from None
    fake = _services().fake_wechat
    if fake is None:
        return jsonify(messages=[], last=after, fake=False)
    found = fake.messages(touser=openid, after=after)
    last = found[-1].seq if found else after
    return jsonify(messages=[{"seq": m.seq, **display(m.kind, m.body)} for m in found],
                   last=last, fake=True)


def _openid(value: object) -> str:
    if not isinstance(value, str) or not OPENID.match(value):
        raise SimulatorError("bad_openid")
    return value


def _text(data: dict[str, Any], key: str = "content") -> str:
    value = data.get(key)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_CONTENT:
        raise SimulatorError("bad_content", field=key)
    return value


def _number(data: dict[str, Any], key: str) -> float:
    try:
        return float(data[key])
    except (KeyError, TypeError, ValueError):
        raise SimulatorError("bad_content", field=key) from None


def _push(pusher: WechatPusher, openid: str, kind: str, data: dict[str, Any]) -> PushResult:
    """Build the push WeChat would send for this kind of input, and send it."""
    try:
        if kind == "text":
            return pusher.text(openid, _text(data))
        if kind == "voice":
            return pusher.voice(openid, _text(data))
        if kind == "image":
            # Each photo its own media id, as WeChat gives them (the desk fetches it by id).
            return pusher.image(openid, _text(data, "pic_url"),
                                media_id=f"media_{secrets.token_hex(8)}")
        if kind == "location":
            return pusher.location(openid, _number(data, "x"), _number(data, "y"),
                                   str(data.get("label") or ""))
        if kind == "click":
            key = data.get("key")
            if not isinstance(key, str) or button(key) is None:
                raise SimulatorError("bad_content", field="key")
            return pusher.event(openid, "CLICK", str(key))
        if kind == "event":
            event = data.get("event")
            if event not in EVENTS:
                raise SimulatorError("bad_content", field="event")
            return pusher.event(openid, str(event))
    except requests.RequestException:
        raise SimulatorError("webhook_unreachable", 502) from None
    raise SimulatorError("bad_kind")


class _TimeoutSession(requests.Session):
    """A session that never waits forever on our own webhook."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        kwargs.setdefault("timeout", PUSH_TIMEOUT_SECONDS)
        return super().request(*args, **kwargs)


def _pusher() -> WechatPusher:
    """A WeChat stand-in aimed at this very server's /wechat, with the configured secrets."""
    wechat = _services().config.wechat
    session = _TimeoutSession()
    session.trust_env = False  # loopback: never through a proxy
    return WechatPusher(request.url_root, wechat.token, wechat.appid, wechat.aes_key,
                        session=session)


def _reply_json(reply: dict[str, Any]) -> dict[str, Any]:
    return {"type": reply.get("type", "text"), "text": reply.get("text", ""),
            "articles": reply.get("articles") or []}


def display(kind: str, body: dict[str, Any]) -> dict[str, Any]:
    """What a phone shows for a sent customer-service or template message."""
    if kind == "template":
        lines = [_template_value(v) for v in (body.get("data") or {}).values()]
        return {"type": "template", "text": "\n".join(x for x in lines if x),
                "url": body.get("url") or "", "articles": []}
    msgtype = body.get("msgtype")
    if msgtype == "text":
        return {"type": "text", "text": (body.get("text") or {}).get("content", ""),
                "articles": []}
    if msgtype == "news":
        articles = (body.get("news") or {}).get("articles") or []
        return {"type": "news", "text": articles[0].get("title", "") if articles else "",
                "articles": articles}
    return {"type": str(msgtype or "unknown"), "text": "", "articles": []}


def _template_value(value: object) -> str:
    if isinstance(value, dict):
        return str(value.get("value", ""))
    return str(value)
