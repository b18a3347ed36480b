"""What one push costs: committed transactions, Redis commands, and time, per push.

Sends signed text pushes one after another through /wechat (Flask test client, no
network) on PostgreSQL + Redis: WUYE_DATABASE_URL and WUYE_REDIS_URL, or, when they
are not set, throwaway local servers started here (as the tests do). Prints the
averages per push, so a change to the webhook path shows its cost in numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, event, text  # noqa: E402

from bot.push import WechatPusher  # noqa: E402
from core.config import load_config  # noqa: E402

MESSAGES = ["物业费怎么交", "你好", "服务中心几点上班", "门禁卡丢了怎么办", "谢谢",
            "装修垃圾放哪里", "物业电话多少", "快递放哪了"]


@contextlib.contextmanager
def stores() -> Iterator[tuple[str, str]]:
    """The database and Redis URLs: from the environment, or local throwaway servers."""
    db, rd = os.environ.get("WUYE_DATABASE_URL"), os.environ.get("WUYE_REDIS_URL")
    if db and rd:
        yield db, rd
        return
    from tests.servers import postgres_server, redis_server

    with postgres_server() as admin, redis_server() as redis_url:
        engine = create_engine(admin, isolation_level="AUTOCOMMIT")
        with engine.connect() as conn:
            conn.execute(text("CREATE DATABASE wuye_bench"))
        engine.dispose()
        yield admin.rsplit("/", 1)[0] + "/wuye_bench", redis_url


def redis_calls(client: object) -> int:
    stats = client.info("commandstats")  # type: ignore[attr-defined]
    return sum(int(v["calls"]) for k, v in stats.items() if k != "cmdstat_info")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--residents", type=int, default=50,
                        help="distinct openids (as many as --count: every push a first one)")
    args = parser.parse_args()
    from wuye.app import create_app
    from wuye.services import build_services

    with stores() as (db_url, redis_url):
        config = load_config(env={}, overrides={
            "var_dir": tempfile.mkdtemp(prefix="wuye-bench-"),
            "database": {"url": db_url}, "redis": {"url": redis_url},
            "wechat": {"api_base": "http://127.0.0.1:9", "rate_limit_per_minute": 0}})
        services = build_services(config)
        app = create_app(config, services=services, background=False)
        pusher = WechatPusher("", config.wechat.token, config.wechat.appid,
                              session=app.test_client())
        commits = 0

        def count_commit(_conn: object) -> None:
            nonlocal commits
            commits += 1

        event.listen(services.db, "commit", count_commit)
        statements = 0

        def count_statement(*_args: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(services.db, "before_cursor_execute", count_statement)
        for i in range(20):  # warm up: model, pools, jieba
            pusher.text(f"o_warm_{i}", MESSAGES[i % len(MESSAGES)])
        commits, statements = 0, 0
        calls_before, latencies = redis_calls(services.redis), []
        cpu_before = time.process_time()
        for i in range(args.count):
            begin = time.perf_counter()
            result = pusher.text(f"o_cost_{i % args.residents}", MESSAGES[i % len(MESSAGES)])
            latencies.append(time.perf_counter() - begin)
            assert result.status_code == 200, result.body
        cpu = time.process_time() - cpu_before
        calls = redis_calls(services.redis) - calls_before
        latencies.sort()
        print(f"pushes: {args.count} (PostgreSQL + Redis, one at a time, no network)")
        print(f"committed transactions per push: {commits / args.count:.2f}")
        print(f"SQL statements per push: {statements / args.count:.2f}")
        print(f"redis commands per push: {calls / args.count:.2f}")
        print(f"CPU time of this process per push: {cpu / args.count * 1000:.2f} ms "
              f"(what bounds pushes/s per core)")
        print(f"latency p50: {statistics.median(latencies) * 1000:.1f} ms  "
              f"p99: {latencies[int(len(latencies) * 0.99) - 1] * 1000:.1f} ms")
        services.close()


if __name__ == "__main__":
    main()
