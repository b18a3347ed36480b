"""The two WeChat calls the desk makes: fetch a user's media file, and turn a web OAuth
code into the WeChat openid of the staff member holding the phone."""

from __future__ import annotations

from typing import Any, Protocol
from urllib.parse import urlencode

import requests

from core.config import WechatConfig

REAL_API = "https://api.weixin.qq.com"
REAL_OPEN = "https://open.weixin.qq.com"


class TokenSource(Protocol):
    def access_token(self, force_refresh: bool = False) -> str: ...


class WechatDeskError(Exception):
    """WeChat refused or could not be reached; the message is for logs and staff."""


def oauth_base(config: WechatConfig) -> str:
    """open.weixin.qq.com in production; the same loopback fake as the API otherwise."""
    base = config.api_base.rstrip("/")
    return REAL_OPEN if base == REAL_API else base


def authorize_url(config: WechatConfig, redirect_uri: str, state: str) -> str:
    """Where the worker's phone goes to let WeChat say who they are (snsapi_base)."""
    query = urlencode({"appid": config.appid, "redirect_uri": redirect_uri,
                       "response_type": "code", "scope": "snsapi_base", "state": state})
    return f"{oauth_base(config)}/connect/oauth2/authorize?{query}#wechat_redirect"


def openid_for_code(config: WechatConfig, code: str) -> str:
    response = _get(config, "/sns/oauth2/access_token", {
        "appid": config.appid, "secret": config.secret, "code": code,
        "grant_type": "authorization_code"})
    data = _json(response)
    if not data.get("openid"):
        raise WechatDeskError(f"{data.get('errcode')} {data.get('errmsg')}")
    return str(data["openid"])


def fetch_media(config: WechatConfig, tokens: TokenSource, media_id: str,
                max_bytes: int) -> tuple[bytes, str]:
    """A resident's photo from WeChat's temporary media API: (bytes, content type)."""
    for attempt in (0, 1):
        token = tokens.access_token(force_refresh=attempt == 1)
        response = _get(config, "/cgi-bin/media/get",
                        {"access_token": token, "media_id": media_id})
        kind = response.headers.get("Content-Type", "")
        if not kind.startswith(("application/json", "text/plain")):
            if len(response.content) > max_bytes:
                raise WechatDeskError("media too large")
            return response.content, kind.split(";")[0] or "image/jpeg"
        data = _json(response)
        if data.get("errcode") not in (40001, 42001):
            break
    raise WechatDeskError(f"{data.get('errcode')} {data.get('errmsg')}")


def _get(config: WechatConfig, path: str, params: dict[str, str]) -> requests.Response:
    try:
        return requests.get(f"{config.api_base.rstrip('/')}{path}", params=params,
                            timeout=config.http_timeout_seconds)
    except requests.RequestException as exc:
        raise WechatDeskError(type(exc).__name__) from None


def _json(response: requests.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        raise WechatDeskError(f"HTTP {response.status_code}: not JSON") from None
    return data if isinstance(data, dict) else {}
