"""The WeChat HTTP API client: one shared access token, customer-service and template sends.

The access token lives in Redis so every process uses the same one; only one
process refreshes it at a time (under a Redis lock), because each refresh
invalidates tokens other processes still hold. Every URL, the token fetch
included, comes from `config.wechat.api_base`, so tests and the demo can point
the client at the loopback fake.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

import redis
import requests
from redis.exceptions import LockError, RedisError
from urllib3.exceptions import NewConnectionError

from core.config import WechatConfig

log = logging.getLogger(__name__)

# WeChat says the token we sent is invalid, malformed or expired: refetch and retry once.
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
# Transient on WeChat's side (system busy, rate limits): worth another attempt later.
TRANSIENT_ERRCODES = frozenset({-1, 45009, 45011, 45047})
# Refresh this long before WeChat's expiry, so a token is never used at its last second.
TOKEN_EXPIRY_MARGIN_SECONDS = 300
# Our own codes for failures that never reached a WeChat answer.
ERRCODE_TRANSPORT = -1001
ERRCODE_BAD_RESPONSE = -1002
ERRCODE_LOCK_BUSY = -1003
# A send went out but its answer never came: WeChat may or may not have delivered it.
ERRCODE_AMBIGUOUS = -1004
ERRCODE_TOKEN_STORE = -1005  # Redis (the shared token's home) failed before anything was sent
# Sent with every send; WeChat ignores it, the loopback fake records it (tests match on it).
IDEMPOTENCY_HEADER = "Idempotency-Key"
# requests puts the URL, token and all, into its messages; errors end up in logs and the DB.
_TOKEN_IN_URL = re.compile(r"(access_token=)[^&\s'\"]+")


class WechatApiError(Exception):
    """WeChat refused a call, or could not be reached; `retryable` says if trying later may help."""

    def __init__(self, errcode: int, errmsg: str, *, retryable: bool | None = None) -> None:
        super().__init__(f"WeChat API error {errcode}: {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.retryable = _is_retryable(errcode) if retryable is None else retryable

    @property
    def ambiguous(self) -> bool:
        """The send may have been delivered: sending again risks a duplicate."""
        return self.errcode == ERRCODE_AMBIGUOUS

    @property
    def token_rejected(self) -> bool:
        """The access token was refused: a fresh token may make the same call succeed."""
        return self.errcode in TOKEN_ERRCODES


def _is_retryable(errcode: int) -> bool:
    return errcode in TRANSIENT_ERRCODES or errcode in TOKEN_ERRCODES or errcode <= -1000


class WechatApi:
    """Client for the few WeChat endpoints the bot uses; safe to share across threads."""

    def __init__(self, config: WechatConfig, redis_client: redis.Redis) -> None:
        self.config = config
        self._redis = redis_client
        self._base = config.api_base.rstrip("/")
        self._token_key = f"wuye:wechat:access_token:{config.appid}"
        self._lock_key = f"wuye:wechat:access_token_lock:{config.appid}"
        self._http = requests.Session()

    @property
    def timeout(self) -> float:
        """Seconds one HTTP call may take; callers size their leases from it."""
        return self.config.http_timeout_seconds

    def access_token(self, force_refresh: bool = False) -> str:
        """The shared token; fetched from WeChat only when missing or when forced."""
        cached = self._redis.get(self._token_key)
        if cached and not force_refresh:
            return str(cached)
        return self._refresh(stale=cached if force_refresh else None, force=force_refresh)

    def invalidate_token(self, stale: str) -> None:
        """Forget `stale` if it is still the cached token (another process may have replaced it)."""
        with self._token_lock():
            if self._redis.get(self._token_key) == stale:
                self._redis.delete(self._token_key)

    def send_custom(self, payload: dict[str, Any], key: str = "") -> dict[str, Any]:
        """Send a customer-service message (allowed within 48 h of the resident's last message).

        Raises WechatApiError; `ambiguous` when the request went out but no answer came."""
        return self._post_with_token("/cgi-bin/message/custom/send", payload, key)

    def send_template(self, payload: dict[str, Any], key: str = "") -> dict[str, Any]:
        """Send a template message (notifications allowed outside the 48 h window)."""
        return self._post_with_token("/cgi-bin/message/template/send", payload, key)

    def create_menu(self, definition: dict[str, Any]) -> dict[str, Any]:
        """Replace the Official Account's custom menu (WeChat's menu/create)."""
        # Replacing the menu with the same one is harmless: no idempotency key needed.
        return self._post_with_token("/cgi-bin/menu/create", definition, "")

    def close(self) -> None:
        self._http.close()

    def _refresh(self, stale: str | None, force: bool) -> str:
        """Double-checked refresh: under the lock, reuse a token someone else just fetched."""
        with self._token_lock():
            cached = self._redis.get(self._token_key)
            if cached and cached != stale:
                return str(cached)
            token, expires_in = self._fetch_token(force=force or stale is not None)
            ttl = expires_in - min(TOKEN_EXPIRY_MARGIN_SECONDS, expires_in // 2)
            self._redis.set(self._token_key, token, ex=max(ttl, 1))
            log.info("wechat access token refreshed (appid=%s, ttl=%ss)", self.config.appid, ttl)
            return token

    def _token_lock(self) -> _HeldLock:
        # The holder may make one HTTP call; the lock outlives it so no one refreshes twice.
        lock = self._redis.lock(
            self._lock_key,
            timeout=self.timeout * 3 + 5,
            blocking_timeout=self.timeout * 3 + 5,
        )
        return _HeldLock(lock)

    def _fetch_token(self, force: bool) -> tuple[str, int]:
        """Ask WeChat's stable_token endpoint, which does not revoke tokens on every call."""
        body = {
            "grant_type": "client_credential",
            "appid": self.config.appid,
            "secret": self.config.secret,
            "force_refresh": force,
        }
        data = self._request(f"{self._base}/cgi-bin/stable_token", body)
        token = data.get("access_token")
        if not isinstance(token, str) or not token:
            raise WechatApiError(ERRCODE_BAD_RESPONSE, "token response without access_token")
        return token, int(data.get("expires_in") or 7200)

    def _post_with_token(self, path: str, payload: dict[str, Any], key: str) -> dict[str, Any]:
        token = self._token_or_retryable(lambda: self.access_token())
        try:
            return self._request(f"{self._base}{path}", payload, token, key=key)
        except WechatApiError as exc:
            if not exc.token_rejected:
                raise
            # Refused before delivery, so sending again cannot duplicate it.
            log.warning("wechat rejected the access token (errcode=%s); refetching", exc.errcode)
            fresh = self._token_or_retryable(lambda: self._refresh(stale=token, force=True))
            return self._request(f"{self._base}{path}", payload, fresh, key=key)

    @staticmethod
    def _token_or_retryable(get: Any) -> str:
        """A token, or a retryable error if Redis failed: nothing has been sent yet."""
        try:
            return str(get())
        except RedisError as exc:
            raise WechatApiError(ERRCODE_TOKEN_STORE, f"redis: {type(exc).__name__}",
                                 retryable=True) from None

    def _request(
        self, url: str, body: dict[str, Any], token: str | None = None, key: str | None = None
    ) -> dict[str, Any]:
        """POST JSON (UTF-8, not escaped: WeChat shows \\uXXXX literally) and check errcode.

        `key` marks a send: a failure after the request left is then ambiguous."""
        params = {"access_token": token} if token else None
        data = _json_bytes(body)
        headers = {"Content-Type": "application/json; charset=utf-8"}
        if key:
            headers[IDEMPOTENCY_HEADER] = key
        try:
            response = self._http.post(url, params=params, data=data, headers=headers,
                                       timeout=self.timeout)
        except requests.RequestException as exc:
            detail = _TOKEN_IN_URL.sub(r"\1***", f"{type(exc).__name__}: {exc}")
            if key is not None and _may_have_arrived(exc):
                raise WechatApiError(ERRCODE_AMBIGUOUS, detail, retryable=False) from None
            raise WechatApiError(ERRCODE_TRANSPORT, detail) from None
        if response.status_code >= 400:
            raise WechatApiError(
                ERRCODE_TRANSPORT,
                f"HTTP {response.status_code}",
                retryable=response.status_code >= 500 or response.status_code == 429,
            )
        try:
            result = response.json()
        except ValueError:
            raise WechatApiError(ERRCODE_BAD_RESPONSE, "response is not JSON") from None
        if not isinstance(result, dict):
            raise WechatApiError(ERRCODE_BAD_RESPONSE, "response is not a JSON object")
        errcode = int(result.get("errcode") or 0)
        if errcode:
            raise WechatApiError(errcode, str(result.get("errmsg", "")))
        return result


class _HeldLock:
    """Context manager around a redis lock that fails with a retryable WechatApiError."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock

    def __enter__(self) -> None:
        if not self._lock.acquire():
            raise WechatApiError(ERRCODE_LOCK_BUSY, "access token refresh lock is busy")

    def __exit__(self, *exc_info: object) -> None:
        try:
            self._lock.release()
        except LockError:
            # It expired while we held it; the token we wrote is still valid.
            log.warning("access token lock expired before release")


def _may_have_arrived(exc: requests.RequestException) -> bool:
    """False only when no connection was made, so WeChat cannot have seen the request."""
    if isinstance(exc, requests.ConnectTimeout):
        return False
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(getattr(reason, "reason", reason), NewConnectionError):
            return False
    return True


def _json_bytes(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


def custom_text(openid: str, text: str) -> dict[str, Any]:
    """Payload for a customer-service text message."""
    return {"touser": openid, "msgtype": "text", "text": {"content": text}}


def custom_news(
    openid: str, title: str, description: str, url: str, picurl: str = ""
) -> dict[str, Any]:
    """Payload for a customer-service news message (WeChat allows one article)."""
    article = {"title": title, "description": description, "url": url, "picurl": picurl}
    return {"touser": openid, "msgtype": "news", "news": {"articles": [article]}}


def template_message(
    openid: str,
    template_id: str,
    data: dict[str, str] | dict[str, dict[str, str]],
    url: str | None = None,
) -> dict[str, Any]:
    """Payload for a template message; plain strings become WeChat's {"value": …} fields."""
    fields = {
        key: value if isinstance(value, dict) else {"value": value} for key, value in data.items()
    }
    payload: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": fields}
    if url:
        payload["url"] = url
    return payload
