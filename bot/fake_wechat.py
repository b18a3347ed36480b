"""A loopback HTTP server that speaks WeChat's API JSON: the one fake we allow.

Tests point `wechat.api_base` at it to see what the bot sends and to make
WeChat fail on purpose (errcodes, HTTP 5xx, a slow answer before accepting, an
answer that never comes after accepting); demo mode runs it so the simulator can
show the customer-service messages the bot sends later. It issues and checks
access tokens the way WeChat does, so the real client code runs unchanged, and
records each accepted send with the client's Idempotency-Key header, so tests
can compare what WeChat received with the outbox's records.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

TOKEN_TTL_SECONDS = 7200
# An 8x8 PNG (a blue-grey square): what a made-up media id serves in tests and the demo.
DEMO_PICTURE = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGOoWHACK2IYWhIAz3p4Aasum28AAAAASUVORK5CYII=")

# WeChat's own messages for the errors the fake produces.
ERRMSGS = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40007: "invalid media_id",
    40029: "invalid code",
    40037: "invalid template_id",
    40125: "invalid appsecret",
    41001: "access_token missing",
    42001: "access_token expired",
    43004: "require subscribe",
    44002: "empty post data",
    45009: "reach max api daily quota limit",
    40016: "invalid button size",
    40017: "invalid button type",
    45015: "response out of time limit or subscription is canceled",
    45047: "out of response count limit",
    46003: "menu no exist",
    47001: "data format error",
}


class _QuietHandler(WSGIRequestHandler):
    """No access log: URLs carry access tokens, and the demo would log every poll."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        pass


@dataclass(frozen=True)
class SentMessage:
    """One send WeChat accepted: which endpoint and the JSON body."""

    seq: int
    kind: str  # custom | template
    body: dict[str, Any]
    received_at: float = field(default_factory=time.time)
    key: str = ""  # the sender's Idempotency-Key header (WeChat itself ignores it)

    @property
    def touser(self) -> str:
        return str(self.body.get("touser", ""))

    def as_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "kind": self.kind, "touser": self.touser,
                "body": self.body, "received_at": self.received_at, "key": self.key}


@dataclass
class _Failure:
    """One injected fault for the next send."""

    errcode: int = -1
    http_status: int | None = None
    delay: float = 0.0  # seconds before answering (or before accepting, when `accept`)
    accept: bool = False  # the send is delivered despite the fault
    hang_after: float = 0.0  # accepted, then no answer for this long

class FakeWechatApi:
    """WeChat's API on 127.0.0.1 with a free port, in a daemon thread."""

    def __init__(self, appid: str = "wx0000000000demo", secret: str = "demo-secret") -> None:
        self.appid = appid
        self.secret = secret
        self.token_requests = 0
        self.token_delay_seconds = 0.0  # widen races in tests of concurrent refresh
        self._tokens: dict[str, float] = {}  # token -> expiry (monotonic)
        self._stable: str | None = None
        self._failures: list[_Failure] = []
        self._messages: list[SentMessage] = []
        self.menus: list[dict[str, Any]] = []  # every menu/create body accepted, in order
        self._cond = threading.Condition()
        self._media: dict[str, tuple[bytes, str]] = {}
        self._codes: dict[str, str] = {}  # OAuth code -> openid (single use)
        self.oauth_openid = "o_worker_demo"  # who "is signed in to WeChat" on the phone
        self._release = threading.Event()  # ends every injected delay at once
        self.send_requests = 0  # every send request that arrived, accepted or not
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> FakeWechatApi:
        """Bind a free loopback port and serve in a daemon thread."""
        if self._server is None:
            self._server = make_server(
                "127.0.0.1", 0, self._wsgi, threaded=True, request_handler=_QuietHandler
            )
            self._thread = threading.Thread(
                target=self._server.serve_forever, name="fake-wechat", daemon=True
            )
            self._thread.start()
        return self

    def stop(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeWechatApi:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def base_url(self) -> str:
        """What `wechat.api_base` should be set to."""
        if self._server is None:
            raise RuntimeError("FakeWechatApi is not started")
        return f"http://127.0.0.1:{self._server.server_port}"

    # --- what tests look at and steer ------------------------------------------------------

    @property
    def sent(self) -> list[dict[str, Any]]:
        """Bodies of every accepted send, in order."""
        with self._cond:
            return [m.body for m in self._messages]

    def sent_to(self, openid: str) -> list[dict[str, Any]]:
        with self._cond:
            return [m.body for m in self._messages if m.touser == openid]

    def messages(self, touser: str | None = None, after: int = 0) -> list[SentMessage]:
        """Accepted sends with seq > after, optionally for one openid (what the simulator polls)."""
        with self._cond:
            return [m for m in self._messages
                    if m.seq > after and (touser is None or m.touser == touser)]

    def wait_for_sent(self, count: int, timeout: float = 5.0) -> list[dict[str, Any]]:
        """Block until at least `count` sends arrived; raise TimeoutError otherwise."""
        with self._cond:
            if not self._cond.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"expected {count} sends, got {len(self._messages)}")
            return [m.body for m in self._messages]

    def fail_next(self, count: int = 1, errcode: int = -1, http_status: int | None = None,
                  delay: float = 0.0) -> None:
        """Make the next `count` sends fail with a WeChat errcode, or with a bare HTTP status;
        `delay` holds the answer that long first (a client timing out never hears it)."""
        with self._cond:
            self._failures.extend(_Failure(errcode, http_status, delay) for _ in range(count))

    def delay_next(self, count: int, seconds: float) -> None:
        """The next `count` sends wait `seconds`, then are accepted and answered ok."""
        with self._cond:
            self._failures.extend(_Failure(delay=seconds, accept=True) for _ in range(count))

    def accept_then_hang(self, count: int, seconds: float) -> None:
        """The next `count` sends are accepted (delivered) and then not answered for `seconds`."""
        with self._cond:
            self._failures.extend(_Failure(accept=True, hang_after=seconds)
                                  for _ in range(count))

    def release(self) -> None:
        """End every injected delay now (and those injected later: call reset() to re-arm)."""
        self._release.set()

    def keys(self) -> list[str]:
        """Idempotency keys of the accepted sends, in order, duplicates included."""
        with self._cond:
            return [m.key for m in self._messages]

    def revoke_tokens(self) -> None:
        """Invalidate every issued token, as when another party refreshed it."""
        with self._cond:
            self._tokens.clear()
            self._stable = None

    def expire_tokens(self) -> None:
        """Make every issued token expired (errcode 42001 on use)."""
        with self._cond:
            self._tokens = dict.fromkeys(self._tokens, 0.0)

    def add_media(self, media_id: str, data: bytes, content_type: str = "image/jpeg") -> None:
        """A file a user sent, as WeChat keeps it for /cgi-bin/media/get."""
        with self._cond:
            self._media[media_id] = (data, content_type)

    def reset(self) -> None:
        with self._cond:
            self._messages.clear()
            self._failures.clear()
            self.token_requests = 0
            self.send_requests = 0
        self._release.clear()

    # --- the HTTP side ---------------------------------------------------------------------

    def _wsgi(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        routes = {
            ("POST", "/cgi-bin/stable_token"): self._stable_token,
            ("GET", "/cgi-bin/token"): self._token,
            ("POST", "/cgi-bin/message/custom/send"): lambda r: self._send(r, "custom"),
            ("POST", "/cgi-bin/message/template/send"): lambda r: self._send(r, "template"),
            ("GET", "/fake/messages"): self._list_messages,
            ("GET", "/cgi-bin/media/get"): self._media_get,
            ("GET", "/connect/oauth2/authorize"): self._oauth_authorize,
            ("GET", "/sns/oauth2/access_token"): self._oauth_token,
            ("POST", "/cgi-bin/menu/create"): self._create_menu,
            ("GET", "/cgi-bin/menu/get"): self._get_menu,
        }
        handler = routes.get((request.method, request.path))
        if handler is None:
            response = _json({"errcode": 404, "errmsg": "not found"}, status=404)
        else:
            response = handler(request)
        return response(environ, start_response)

    def _stable_token(self, request: Request) -> Response:
        body = _body(request)
        if body is None:
            return _error(47001)
        if error := self._check_credentials(body.get("grant_type"), body.get("appid"),
                                            body.get("secret")):
            return error
        self._delay()
        with self._cond:
            self.token_requests += 1
            current = self._stable
            if body.get("force_refresh") or current is None or self._expired(current):
                if current is not None:
                    self._tokens.pop(current, None)
                current = self._issue()
                self._stable = current
            remaining = max(int(self._tokens[current] - time.monotonic()), 0)
        return _json({"access_token": current, "expires_in": remaining})

    def _token(self, request: Request) -> Response:
        args = request.args
        if error := self._check_credentials(args.get("grant_type"), args.get("appid"),
                                            args.get("secret")):
            return error
        self._delay()
        with self._cond:
            self.token_requests += 1
            self._tokens.clear()  # a plain /token call revokes every earlier token
            token = self._issue()
        return _json({"access_token": token, "expires_in": TOKEN_TTL_SECONDS})

    def _send(self, request: Request, kind: str) -> Response:
        token = request.args.get("access_token", "")
        with self._cond:
            self.send_requests += 1
            if not token:
                return _error(41001)
            if token not in self._tokens:
                return _error(40001)
            if self._expired(token):
                return _error(42001)
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            self._release.wait(failure.delay)
            if not failure.accept:
                if failure.http_status:
                    return Response("upstream error", status=failure.http_status)
                return _error(failure.errcode)
        body = _body(request)
        if body is None:
            return _error(47001)
        if error := _check_send(body, kind):
            return error
        with self._cond:
            message = SentMessage(len(self._messages) + 1, kind, body,
                                  key=request.headers.get("Idempotency-Key", ""))
            self._messages.append(message)
            self._cond.notify_all()
        if failure is not None and failure.hang_after:
            self._release.wait(failure.hang_after)
        answer: dict[str, Any] = {"errcode": 0, "errmsg": "ok"}
        if kind == "template":
            answer["msgid"] = 1000 + message.seq
        return _json(answer)

    def _media_get(self, request: Request) -> Response:
        """A user's media file: the bytes, or WeChat's JSON error. Ids the simulator makes
        up (media_…) serve a small demo picture, as WeChat would serve the photo."""
        with self._cond:
            if request.args.get("access_token", "") not in self._tokens:
                return _error(40001)
            media_id = request.args.get("media_id", "")
            found = self._media.get(media_id)
        if found is None and media_id.startswith("media_"):
            found = (DEMO_PICTURE, "image/png")
        if found is None:
            return _error(40007)
        data, content_type = found
        return Response(data, content_type=content_type)

    def _oauth_authorize(self, request: Request) -> Response:
        """The web page OAuth step: WeChat sends the browser back with a one-time code."""
        args = request.args
        if args.get("appid") != self.appid:
            return _error(40013)
        target = args.get("redirect_uri", "")
        if not target.startswith(("http://", "https://")):
            return _error(47001)
        code = secrets.token_urlsafe(16)
        with self._cond:
            self._codes[code] = args.get("fake_openid") or self.oauth_openid
        joiner = "&" if "?" in target else "?"
        location = f"{target}{joiner}{urlencode({'code': code, 'state': args.get('state', '')})}"
        return Response("", status=302, headers={"Location": location})

    def _oauth_token(self, request: Request) -> Response:
        """Code for the user's openid (snsapi_base); a code works once."""
        args = request.args
        if args.get("grant_type") != "authorization_code":
            return _error(40002)
        if args.get("appid") != self.appid:
            return _error(40013)
        if args.get("secret") != self.secret:
            return _error(40125)
        with self._cond:
            openid = self._codes.pop(args.get("code", ""), None)
        if openid is None:
            return _error(40029)
        return _json({"access_token": secrets.token_urlsafe(24), "expires_in": 7200,
                      "refresh_token": secrets.token_urlsafe(24), "openid": openid,
                      "scope": "snsapi_base"})

    @property
    def menu(self) -> dict[str, Any] | None:
        """The menu WeChat would show now (the last one created)."""
        with self._cond:
            return self.menus[-1] if self.menus else None

    def _create_menu(self, request: Request) -> Response:
        with self._cond:
            if error := self._check_token(request.args.get("access_token", "")):
                return error
        body = _body(request)
        if body is None or not isinstance(body.get("button"), list) \
                or not 1 <= len(body["button"]) <= 3:
            return _error(40016)
        for button in body["button"]:
            subs = button.get("sub_button") or []
            if len(subs) > 5 or not button.get("name"):
                return _error(40017)
        with self._cond:
            self.menus.append(body)
        return _json({"errcode": 0, "errmsg": "ok"})

    def _get_menu(self, request: Request) -> Response:
        with self._cond:
            if error := self._check_token(request.args.get("access_token", "")):
                return error
        if self.menu is None:
            return _error(46003)
        return _json({"menu": self.menu})

    def _check_token(self, token: str) -> Response | None:
        if not token:
            return _error(41001)
        if token not in self._tokens:
            return _error(40001)
        if self._expired(token):
            return _error(42001)
        return None

    def _list_messages(self, request: Request) -> Response:
        try:
            after = int(request.args.get("after", "0"))
        except ValueError:
            after = 0
        found = self.messages(request.args.get("touser") or None, after)
        return _json({"messages": [m.as_json() for m in found]})

    def _check_credentials(
        self, grant_type: object, appid: object, secret: object
    ) -> Response | None:
        if grant_type != "client_credential":
            return _error(40002)
        if appid != self.appid:
            return _error(40013)
        if secret != self.secret:
            return _error(40125)
        return None

    def _issue(self) -> str:
        token = secrets.token_urlsafe(48)
        self._tokens[token] = time.monotonic() + TOKEN_TTL_SECONDS
        return token

    def _expired(self, token: str) -> bool:
        return self._tokens.get(token, 0.0) <= time.monotonic()

    def _delay(self) -> None:
        if self.token_delay_seconds:
            time.sleep(self.token_delay_seconds)


def _check_send(body: dict[str, Any], kind: str) -> Response | None:
    """The field checks WeChat makes before accepting a send."""
    if not isinstance(body.get("touser"), str) or not body["touser"]:
        return _error(40003)
    if kind == "custom" and body.get("msgtype") not in {"text", "news", "image", "voice",
                                                        "mpnews", "msgmenu", "miniprogrampage"}:
        return _error(47001)
    if kind == "template" and not body.get("template_id"):
        return _error(40037)
    return None


def _body(request: Request) -> dict[str, Any] | None:
    try:
        data = json.loads(request.get_data(as_text=False) or b"null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def _error(errcode: int) -> Response:
    return _json({"errcode": errcode, "errmsg": ERRMSGS.get(errcode, "error")})


def _json(data: dict[str, Any], status: int = 200) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), status=status,
                    content_type="application/json; charset=utf-8")
