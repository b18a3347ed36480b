"""Live updates across processes: an event published by one app reaches another app's SSE."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from typing import Any

import pytest

from admin.users import UserStore
from core.config import Config
from tests.admin.conftest import PASSWORD, csrf_of, sign_in


@pytest.fixture()
def second_app(app_config: Config) -> Iterator[Any]:
    """Another server process behind the same address: same database, same real Redis."""
    from wuye.app import create_app
    from wuye.services import build_services

    config = dataclasses.replace(
        app_config, console=dataclasses.replace(app_config.console, sse_heartbeat_seconds=3))
    services = build_services(config, migrate=False)
    flask_app = create_app(config, services=services, background=False)
    flask_app.testing = True
    yield flask_app
    services.close()


def data_events(chunks: Iterator[bytes], wanted: int) -> list[dict[str, Any]]:
    """Read SSE chunks until `wanted` data events came (a heartbeat first means none came)."""
    found: list[dict[str, Any]] = []
    while len(found) < wanted:
        chunk = next(chunks).decode()
        assert not chunk.startswith(": ping"), f"no event arrived, got {found}"
        found += [json.loads(line[6:]) for line in chunk.splitlines() if line.startswith("data: ")]
    return found


def test_a_handover_on_one_process_reaches_the_console_stream_of_another(
    second_app: Any, console_app: Any, pusher: Any, services: Any
) -> None:
    UserStore(services.sessions).create("agent1", PASSWORD, "agent")
    watcher = second_app.test_client()
    assert sign_in(watcher, "agent1").status_code == 302
    stream = watcher.get("/console/api/events", buffered=False)
    assert stream.status_code == 200 and stream.mimetype == "text/event-stream"
    chunks = iter(stream.response)
    assert ": ready" in next(chunks).decode()  # subscribed before anything happens

    pusher.text("o_stream", "转人工")  # handled by the first app
    [event] = data_events(chunks, 1)
    assert event["type"] == "handover" and event["openid"] == "o_stream"

    actor = console_app.test_client()  # an agent on the first app takes over
    sign_in(actor, "agent1")
    token = csrf_of(actor.get("/console").text)
    actor.post("/console/api/conversations/o_stream/take", json={},
               headers={"X-CSRF-Token": token})
    events = data_events(chunks, 2)  # presence (the sign-in), then the take-over
    assert events[-1]["type"] == "taken" and events[-1]["openid"] == "o_stream"
    stream.close()


def test_the_stream_needs_a_signed_in_user(second_app: Any) -> None:
    assert second_app.test_client().get("/console/api/events").status_code == 401
