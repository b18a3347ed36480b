"""The optional LLM second opinion, against a loopback fake of an OpenAI-compatible API."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from core.config import load_config
from nlu.decision import Decision
from nlu.second_opinion import SecondOpinion
from wuye.understanding import second_opinion


class FakeLlm:
    """Answers POST /v1/chat/completions with `content` (a string) after `delay` seconds."""

    def __init__(self) -> None:
        self.content: str = json.dumps({"intent": "repair"})
        self.delay = 0.0
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                fake.requests.append({"path": self.path, "body": json.loads(body),
                                      "auth": self.headers.get("Authorization")})
                time.sleep(fake.delay)
                reply = {"choices": [{"message": {"role": "assistant",
                                                  "content": fake.content}}]}
                data = json.dumps(reply).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"


@pytest.fixture()
def llm() -> Iterator[FakeLlm]:
    fake = FakeLlm()
    thread = threading.Thread(target=fake.server.serve_forever, daemon=True)
    thread.start()
    yield fake
    fake.server.shutdown()
    fake.server.server_close()


def _decision(intent: str, confidence: float) -> Decision:
    return Decision(text="那个东西又不行了", intent=intent, confidence=confidence, margin=0.2,
                    confidence_floor=0.5)


def test_off_by_default() -> None:
    assert second_opinion(load_config(env={}).nlu) is None
    config = load_config(env={"WUYE_NLU_LLM_URL": "http://127.0.0.1:9/v1",
                               "WUYE_NLU_LLM_MODEL": "qwen"})
    assert isinstance(second_opinion(config.nlu), SecondOpinion)


def test_an_unsure_decision_takes_the_endpoints_intent(llm: FakeLlm) -> None:
    opinion = SecondOpinion(llm.url, "some-model", api_key="k", timeout=2.0)
    reviewed = opinion.review(_decision("faq", 0.2))
    assert (reviewed.intent, reviewed.faq_id) == ("repair", None)
    assert not reviewed.is_unsure()
    sent = llm.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["auth"] == "Bearer k"
    assert sent["body"]["model"] == "some-model"
    assert sent["body"]["messages"][-1]["content"] == "那个东西又不行了"


def test_a_sure_decision_is_not_sent(llm: FakeLlm) -> None:
    decision = _decision("faq", 0.9)
    assert SecondOpinion(llm.url, "m").review(decision) is decision
    assert llm.requests == []


@pytest.mark.parametrize("content", [
    "not json", json.dumps({"intent": "make_coffee"}), json.dumps({"label": "repair"}),
    json.dumps(["repair"]),
])
def test_a_malformed_reply_changes_nothing(llm: FakeLlm, content: str) -> None:
    llm.content = content
    decision = _decision("faq", 0.2)
    assert SecondOpinion(llm.url, "m").review(decision) == decision


def test_a_slow_endpoint_times_out_inside_the_budget(llm: FakeLlm) -> None:
    llm.delay = 1.0
    decision = _decision("faq", 0.2)
    started = time.monotonic()
    assert SecondOpinion(llm.url, "m", timeout=0.2).review(decision) == decision
    assert time.monotonic() - started < 0.9


def test_an_unreachable_endpoint_changes_nothing() -> None:
    decision = _decision("faq", 0.2)
    assert SecondOpinion("http://127.0.0.1:9/v1", "m", timeout=0.5).review(decision) == decision


def test_a_reported_problem_is_never_turned_into_a_dead_end(llm: FakeLlm) -> None:
    llm.content = json.dumps({"intent": "out_of_scope"})
    decision = _decision("complaint", 0.3)
    assert SecondOpinion(llm.url, "m").review(decision) == decision
