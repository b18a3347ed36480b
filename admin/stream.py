"""Live console updates over Server-Sent Events, fanned out through Redis pub/sub.

Each stream subscribes to the events channel itself, so an event published by
any server process (the webhook, another console) reaches every open console,
whichever process serves it.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

from flask import Blueprint, Response
from redis.exceptions import ConnectionError as RedisConnectionError

from admin import auth
from admin.service import ConsoleService
from bot.handover import EVENTS_CHANNEL
from communities.staff import allows

log = logging.getLogger(__name__)

bp = Blueprint("console_stream", __name__)

POLL_SECONDS = 1.0
# A stream holds a server thread; ending it after a minute (the browser reconnects
# after `retry`) bounds that, and re-checks the session, so a revoked one stops here.
MAX_STREAM_SECONDS = 60.0


@bp.before_request
def _guard() -> Any:
    return auth.guard()


@bp.get("/console/api/events")
def events() -> Response:
    services = auth.services()
    pubsub = services.redis.pubsub(ignore_subscribe_messages=True)
    pubsub.subscribe(EVENTS_CHANNEL)  # before the response starts: nothing is missed
    heartbeat = services.config.console.sse_heartbeat_seconds
    shown = _community_filter(ConsoleService(services), auth.current_user())
    return Response(_stream(pubsub, heartbeat, shown), mimetype="text/event-stream",
                    headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


def _community_filter(console: ConsoleService, user: Any) -> Callable[[str], bool]:
    """Staff scoped to some communities hear only about their conversations."""
    scope = console.scope(user)
    if scope is None:
        return lambda data: True
    known: dict[str, bool] = {}

    def shown(data: str) -> bool:
        try:
            openid = json.loads(data).get("openid")
        except (ValueError, AttributeError):
            return True
        if not openid:
            return True  # presence and other staff events
        if openid not in known:
            known[openid] = allows(scope, console.community_of(str(openid)))
        return known[openid]

    return shown


def _stream(pubsub: Any, heartbeat: float,
            shown: Callable[[str], bool] = lambda data: True) -> Iterator[str]:
    """`: ready` first (the subscription is live), then events, with comment heartbeats."""
    try:
        yield "retry: 3000\n: ready\n\n"
        quiet_since = started = time.monotonic()
        while time.monotonic() - started < MAX_STREAM_SECONDS:
            message = pubsub.get_message(timeout=POLL_SECONDS)
            if message and message.get("type") == "message":
                if shown(message["data"]):
                    yield f"data: {message['data']}\n\n"
                    quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= heartbeat:
                yield ": ping\n\n"
                quiet_since = time.monotonic()
    except RedisConnectionError:
        # Redis went away: end the stream; the browser reconnects after `retry`.
        log.warning("console event stream lost Redis; closing it")
    finally:
        pubsub.close()
