"""Shared HTTP behaviour: metrics (who may scrape, what is counted), request ids, demo logs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from bot.push import WechatPusher
from tests.conftest import make_config
from tests.servers import free_port


def test_metrics_are_for_loopback_or_the_bearer_token(
    tmp_path: Path, sqlite_url: str, model_dir: Path, fake_wechat: Any
) -> None:
    from wuye.app import create_app
    from wuye.services import build_services

    config = make_config(tmp_path, database={"url": sqlite_url},
                         redis={"url": f"memory://metrics-{tmp_path.name}"},
                         nlu={"model_dir": str(model_dir)},
                         wechat={"api_base": fake_wechat.base_url},
                         server={"metrics_token": "scrape-me"})
    services = build_services(config, migrate=False)
    try:
        client = create_app(config, services=services, background=False).test_client()
        assert client.get("/metrics").status_code == 200  # loopback
        remote = {"REMOTE_ADDR": "203.0.113.7"}
        assert client.get("/metrics", environ_base=remote).status_code == 403
        assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.7"}
                          ).status_code == 403  # loopback, but relayed by a proxy
        token = {"Authorization": "Bearer scrape-me"}
        assert client.get("/metrics", environ_base=remote, headers=token).status_code == 200
        wrong = {"Authorization": "Bearer guess"}
        assert client.get("/metrics", environ_base=remote, headers=wrong).status_code == 403
    finally:
        services.close()


def _sample(text: str, name: str) -> float:
    """The value of one sample line (`name{labels} value`); 0 when not yet recorded."""
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_pushes_decisions_and_handovers_are_counted(client: Any, pusher: Any) -> None:
    before = client.get("/metrics").text
    assert pusher.text("o_metrics", "物业费怎么交").replies
    assert "人工客服" in pusher.text("o_metrics_h", "转人工").text
    assert client.post("/wechat?signature=x&timestamp=1&nonce=2", data=b"<xml/>"
                       ).status_code == 403
    after = client.get("/metrics").text
    for name, grew in [('wuye_pushes_total{outcome="replied"}', 2),
                       ('wuye_pushes_total{outcome="rejected"}', 1),
                       ('wuye_nlu_decisions_total{intent="faq"}', 1),
                       ('wuye_handovers_total{reason="human"}', 1)]:
        assert _sample(after, name) - _sample(before, name) == grew, name
    assert 'wuye_request_seconds_count{route="wechat"}' in after
    assert "wuye_outbox_depth" in after


def test_every_response_carries_a_request_id(client: Any) -> None:
    generated = client.get("/healthz").headers["X-Request-Id"]
    assert len(generated) == 16
    assert client.get("/healthz", headers={"X-Request-Id": "nginx-abc123"}
                      ).headers["X-Request-Id"] == "nginx-abc123"
    odd = "<script>alert(1)</script> " + "x" * 80
    assert client.get("/healthz", headers={"X-Request-Id": odd}).headers["X-Request-Id"] != odd


def test_demo_access_log_has_paths_without_signatures(cli_env: Path, tmp_path: Path) -> None:
    """`wuye serve --demo` (Werkzeug): the signed query of a push never reaches the log."""
    port = free_port()
    env = {**os.environ, "WUYE_SERVER_PORT": str(port)}
    log = tmp_path / "demo.log"
    wuye = str(Path(sys.executable).parent / "wuye")
    proc = subprocess.Popen([wuye, "serve", "--demo"], env=env, stdout=log.open("wb"),
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except OSError:
                time.sleep(0.2)
        result = WechatPusher(f"http://127.0.0.1:{port}", "wuye-demo-token",
                              "wx0000000000demo").text("o_demo_log", "你好")
        assert result.status_code == 200 and result.replies
    finally:
        proc.terminate()
        proc.wait(30)
    text = log.read_text(encoding="utf-8")
    assert '"POST /wechat"' in text
    assert "signature=" not in text and "nonce=" not in text
