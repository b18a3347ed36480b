"""The same actions behind rasa-sdk's real action server: a Rasa request in, events out."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from core.db import make_engine, make_session_factory
from core.models import Ticket
from handlers.tickets.demo import load_demo_households

ROOT = Path(__file__).resolve().parents[2]
REPAIR_SLOTS = ["room", "problem", "location", "phone", "visit_time"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture()
def action_server(db_url: str, tmp_path: Path) -> Iterator[str]:
    port = _free_port()
    env = {**os.environ, "WUYE_DATABASE_URL": db_url, "WUYE_VAR_DIR": str(tmp_path / "var"),
           "WUYE_CONFIG": str(ROOT / "config.yaml")}
    process = subprocess.Popen(
        [sys.executable, "-m", "handlers.action_server", "--port", str(port)], cwd=ROOT,
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(150):
            try:
                if requests.get(url + "/health", timeout=1).ok:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail(f"action server did not start: {process.stderr.read()!r}")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        process.stderr.close()


def rasa_request(action: str, slots: dict[str, Any], text: str,
                 entities: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """What Rasa Open Source 3.x posts to the action server's /webhook."""
    latest = {"text": text, "intent": {"name": "repair", "confidence": 0.97},
              "entities": entities or [], "intent_ranking": []}
    return {
        "next_action": action,
        "sender_id": "o_rasa",
        "version": "3.6.0",
        "domain": {"forms": {"repair_form": {"required_slots": REPAIR_SLOTS}},
                   "slots": {name: {"type": "any", "mappings": [{"type": "custom"}]}
                             for name in [*REPAIR_SLOTS, "requested_slot"]}},
        "tracker": {
            "sender_id": "o_rasa", "slots": slots, "latest_message": latest,
            "events": [{"event": "action", "name": "action_listen"},
                       {"event": "user", "text": text, "parse_data": latest}],
            "paused": False, "followup_action": None,
            "active_loop": {"name": "repair_form"}, "latest_action_name": "action_listen",
        },
    }


def test_validate_and_submit_over_the_action_server(action_server: str, db_url: str) -> None:
    # A repair in a home: the form (not Rasa) names the next slot.
    slots = {"requested_slot": "room", "problem": "卫生间漏水了", "location": "家中卫生间",
             "location_kind": "home"}
    entity = {"entity": "room", "value": "3-2-502", "start": 0, "end": 7}
    answer = requests.post(action_server + "/webhook", timeout=10, json=rasa_request(
        "validate_repair_form", slots, "3-2-502", [entity])).json()
    values = {e["name"]: e["value"] for e in answer["events"] if e["event"] == "slot"}
    assert values["room"] == "3栋2单元502"
    assert values["requested_slot"] == "phone"

    filled = {**slots, **values, "phone": "13800138000", "form_id": "rasa-1"}
    answer = requests.post(action_server + "/webhook", timeout=10, json=rasa_request(
        "action_submit_repair", filled, "确认")).json()
    reply = answer["responses"][0]["text"]
    assert "工单号：BX" in reply and "工程部" in reply
    assert {"event": "active_loop", "name": None} in [
        {k: e.get(k) for k in ("event", "name")} for e in answer["events"]]

    engine = make_engine(db_url)
    with make_session_factory(engine)() as session:
        ticket = session.scalars(select(Ticket)).one()
        assert (ticket.openid, ticket.room, ticket.type) == ("o_rasa", "3栋2单元502", "repair")
    engine.dispose()


def test_unknown_action_is_refused(action_server: str) -> None:
    response = requests.post(action_server + "/webhook", timeout=10,
                             json=rasa_request("action_nope", {}, "你好"))
    assert response.status_code == 404


def test_load_demo_households_is_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    sessions = make_session_factory(engine)
    assert load_demo_households(sessions) == load_demo_households(sessions)
    engine.dispose()
