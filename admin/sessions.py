"""Server-side console sessions in Redis: the cookie holds only a random, signed id.

Why not Flask's signed-cookie session: a cookie that carries its own data cannot be
revoked. Here logout deletes the record, an admin can end every session of a user
(deactivation, role change, password reset), a session unused for
`console.idle_minutes` expires with its Redis key, and none lives longer than
`console.session_hours` whatever its use.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

import redis
from flask import Flask, Request, Response
from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, Signer
from werkzeug.datastructures import CallbackDict

KEY = "wuye:session:{sid}"
USER_INDEX = "wuye:user-sessions:{uid}"


class ServerSession(CallbackDict[str, Any], SessionMixin):
    """The session dict; `rotate()` asks for a fresh id (after sign-in: no fixation)."""

    def __init__(self, sid: str, data: dict[str, Any] | None = None, new: bool = False) -> None:
        def changed(_self: Any) -> None:
            self.modified = True

        super().__init__(data or {}, changed)
        self.sid = sid
        self.new = new
        self.modified = False
        self.old_sid: str | None = None

    def rotate(self) -> None:
        self.old_sid, self.sid = self.sid, _new_sid()
        self.modified = True


def _new_sid() -> str:
    return secrets.token_urlsafe(32)


class RedisSessionInterface(SessionInterface):
    def __init__(self, client: redis.Redis, idle_seconds: int, max_seconds: int) -> None:
        self.redis = client
        self.idle_seconds = idle_seconds
        self.max_seconds = max_seconds

    def _signer(self, app: Flask) -> Signer:
        return Signer(str(app.secret_key), salt="wuye-session")

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        cookie = request.cookies.get(self.get_cookie_name(app), "")
        sid = ""
        if cookie:
            try:
                sid = self._signer(app).unsign(cookie).decode()
            except BadSignature:
                sid = ""
        raw = self.redis.get(KEY.format(sid=sid)) if sid else None
        if raw:
            data = json.loads(raw)
            if time.time() - float(data.get("_created", 0)) < self.max_seconds:
                return ServerSession(sid, data)
            self.redis.delete(KEY.format(sid=sid))
        return ServerSession(_new_sid(), new=True)

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, ServerSession)
        name, domain = self.get_cookie_name(app), self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        if session.old_sid:
            self.redis.delete(KEY.format(sid=session.old_sid))
        if not session:
            if not session.new:  # cleared (logout): the record goes, and the cookie
                self.redis.delete(KEY.format(sid=session.sid))
                response.delete_cookie(name, domain=domain, path=path)
            return
        key = KEY.format(sid=session.sid)
        if session.modified or session.new:
            data = dict(session)
            data.setdefault("_created", time.time())
            self.redis.set(key, json.dumps(data), ex=self.idle_seconds)
            if "uid" in data:
                index = USER_INDEX.format(uid=data["uid"])
                self.redis.sadd(index, session.sid)
                self.redis.expire(index, self.max_seconds)
        else:
            self.redis.expire(key, self.idle_seconds)  # activity keeps it alive
        response.set_cookie(
            name, self._signer(app).sign(session.sid.encode()).decode(),
            httponly=True, secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app), domain=domain, path=path,
        )
        response.vary.add("Cookie")


def revoke_user(client: redis.Redis, user_id: int) -> int:
    """End every session of a user at once; returns how many were live."""
    index = USER_INDEX.format(uid=user_id)
    sids = list(client.smembers(index))
    ended = client.delete(*[KEY.format(sid=sid) for sid in sids]) if sids else 0
    client.delete(index)
    return int(ended)
