"""End-to-end webhook throughput: signed pushes through /wechat to a passive reply.

Runs in one process on the embedded defaults (SQLite file, in-process Redis) or on
the URLs given by WUYE_DATABASE_URL / WUYE_REDIS_URL. Prints pushes/s and latency.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from bot.push import WechatPusher
from core.config import load_config
from wuye.app import create_app
from wuye.services import build_services

MESSAGES = ["物业费怎么交", "你好", "服务中心几点上班", "门禁卡丢了怎么办", "谢谢",
            "装修垃圾放哪里", "帮我订张机票", "快递放哪了"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=400)
    args = parser.parse_args()
    config = load_config(overrides={"var_dir": tempfile.mkdtemp(prefix="wuye-bench-"),
                                    "wechat": {"api_base": "http://127.0.0.1:9"}})
    services = build_services(config)
    app = create_app(config, services=services, background=False)
    pusher = WechatPusher("", config.wechat.token, config.wechat.appid,
                          session=app.test_client())
    pusher.text("o_warmup", "你好")
    latencies = []
    started = time.perf_counter()
    for i in range(args.count):
        begin = time.perf_counter()
        result = pusher.text(f"o_bench_{i % 50}", MESSAGES[i % len(MESSAGES)])
        latencies.append(time.perf_counter() - begin)
        assert result.status_code == 200 and result.replies, result.body
    elapsed = time.perf_counter() - started
    latencies.sort()
    print(f"database: {config.database_url.split(':', 1)[0]}  redis: {config.redis.url}")
    print(f"pushes: {args.count}  pushes/s: {args.count / elapsed:.1f}")
    print(f"latency p50: {statistics.median(latencies) * 1000:.1f} ms  "
          f"p99: {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f} ms")
    services.close()


if __name__ == "__main__":
    main()
