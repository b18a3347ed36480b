"""The one Redis accessor: a real server by URL, or an in-process twin for `memory://`."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import redis

if TYPE_CHECKING:
    import fakeredis

_memory_servers: dict[str, fakeredis.FakeServer] = {}
_memory_lock = threading.Lock()


def connect_redis(url: str, socket_timeout: float | None = 1.0) -> redis.Redis:
    """Return a client with text responses.

    `memory://NAME` shares one in-process server per NAME, so every client of the
    single-process default sees the same keys, locks and pub/sub channels. A real
    server's commands (and connects) give up after `socket_timeout` seconds: a hung
    Redis must fail a push fast enough for WeChat to retry it, not hang it.
    """
    if url.startswith("memory://"):
        import fakeredis  # only the single-process default needs it (~0.3 s to import)

        name = url.removeprefix("memory://") or "default"
        with _memory_lock:
            server = _memory_servers.setdefault(name, fakeredis.FakeServer())
        return fakeredis.FakeRedis(server=server, decode_responses=True)
    return redis.Redis.from_url(url, decode_responses=True, health_check_interval=30,
                                socket_timeout=socket_timeout,
                                socket_connect_timeout=socket_timeout)
