"""What every HTTP response shares: security headers, request ids, latency, health, metrics.

`/healthz` says the process is alive; `/readyz` says it can serve (database,
Redis and the NLU model answer) and is 503 otherwise, so a load balancer stops
sending pushes that could not be stored. `/metrics` is Prometheus text, open to
loopback only unless a bearer token is configured.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
import threading
import time
import uuid
from typing import Any

from flask import Flask, Response, g, jsonify, request
from sqlalchemy import func, select, text

from core import metrics
from core.logging import request_id
from core.models import OutboxItem
from core.redis import connect_redis

log = logging.getLogger(__name__)

# No inline script or style anywhere; WeChat image links are https (or http) URLs.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https: "
       "http:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
       "form-action 'self'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "X-Content-Type-Options": "nosniff",
}
READY_TIMEOUT_SECONDS = 2.0
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_ROUTE_GROUPS = (("/wechat", "wechat"), ("/console/api/events", "stream"),
                 ("/console", "console"), ("/admin", "admin"), ("/simulator", "simulator"))


def route_group(path: str) -> str:
    """Few label values: a histogram per URL would grow with every openid in a path."""
    for prefix, group in _ROUTE_GROUPS:
        if path.startswith(prefix):
            return group
    return "other"


def install(app: Flask, services: Any) -> None:
    """Register the shared hooks and the health and metrics routes."""
    app.before_request(_begin)
    app.after_request(_finish)
    app.add_url_rule("/healthz", "healthz", lambda: jsonify(status="ok"))
    probe = connect_redis(services.config.redis.url, socket_timeout=READY_TIMEOUT_SECONDS)
    database = DatabaseProbe(services.db)
    app.add_url_rule("/readyz", "readyz", lambda: readiness(services, probe, database))
    app.add_url_rule("/metrics", "metrics", lambda: _metrics(services))


def _begin() -> None:
    g.started = time.perf_counter()
    sent = request.headers.get("X-Request-Id", "")
    g.request_id = sent if _REQUEST_ID.match(sent) else uuid.uuid4().hex[:16]
    g.request_id_token = request_id.set(g.request_id)


def _finish(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if "started" in g:
        response.headers["X-Request-Id"] = g.request_id
        metrics.REQUEST_SECONDS.labels(route_group(request.path)).observe(
            time.perf_counter() - g.started)
        request_id.reset(g.request_id_token)
    return response


class DatabaseProbe:
    """`SELECT 1` with a deadline: the driver has no reply timeout, so the query runs on a
    daemon thread; while one hangs no second is started (at most one thread waits)."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.thread: threading.Thread | None = None

    def check(self) -> str:
        if self.thread is not None and self.thread.is_alive():
            return "down: not answering"
        result: dict[str, str] = {}
        self.thread = threading.Thread(target=self._select_one, args=(result,), daemon=True,
                                       name="readyz-database")
        self.thread.start()
        self.thread.join(READY_TIMEOUT_SECONDS)
        return result.get("status", "down: timeout")

    def _select_one(self, result: dict[str, str]) -> None:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            result["status"] = "ok"
        except Exception as exc:
            result["status"] = f"down: {type(exc).__name__}"


def readiness(services: Any, probe: Any, database: DatabaseProbe) -> tuple[Response, int]:
    """Each dependency checked; 503 naming the ones that failed.

    Both stores are asked with deadlines (Redis through its own client with short
    timeouts), so one that hangs rather than refuses makes this 503 within seconds.
    """
    checks: dict[str, str] = {"database": database.check()}
    try:
        probe.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"down: {type(exc).__name__}"
    model = getattr(services.understander, "model", None)
    checks["nlu"] = "ok" if model is not None else "not loaded"
    ready = all(value == "ok" for value in checks.values())
    if not ready:
        log.warning("not ready: %s", checks)
    return jsonify(status="ready" if ready else "unavailable", checks=checks), \
        200 if ready else 503


def _metrics(services: Any) -> Response | tuple[str, int]:
    if not _may_scrape(services.config.server.metrics_token):
        return "forbidden", 403
    body = metrics.render(lambda: _gauges(services))
    return Response(body, mimetype="text/plain; version=0.0.4")


def _may_scrape(token: str) -> bool:
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent, f"Bearer {token}"):
        return True
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback \
            and "X-Forwarded-For" not in request.headers
    except ValueError:
        return False


def _gauges(services: Any) -> dict[str, float]:
    with services.sessions() as session:
        rows = dict(session.execute(select(OutboxItem.status, func.count())
                                    .group_by(OutboxItem.status)).all())
    return {"wuye_outbox_depth": float(rows.get("pending", 0)),
            "wuye_outbox_failed_items": float(rows.get("failed", 0))}
