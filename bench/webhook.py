"""Webhook throughput with a real load generator: our production server against the floor.

In one run, under the same gunicorn settings (N workers x T gthread threads, no
access log in either): the bare wechatpy + Flask echo webhook (bench/echo_webhook.py),
then `wuye serve --workers N` on PostgreSQL + Redis (started on loopback, as the tests
do; SQLite + one worker with --sqlite) beside `wuye worker`. wrk sends signed pushes,
each with its own nonce and MsgId (bench/signed_push.lua). Prints pushes/s, latency
and the share answered with a passive reply for both, and their ratio.

`--profile` then samples the app's workers with py-spy (`pip install py-spy`) under
one more wrk run and prints where a push's CPU time goes, by area.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.prodstack import production_stack, wait_ready  # noqa: E402
from tests.servers import free_port, postgres_server, redis_server  # noqa: E402

TOKEN = "wuye-demo-token"
LUA = ROOT / "bench" / "signed_push.lua"
QUERIES_PER_RUN = 100_000  # more than a run sends: wrk wraps around only past this


def signed_queries(path: Path, count: int) -> None:
    """Query strings WeChat would send: one fresh nonce each, timestamp now."""
    timestamp = str(int(time.time()))
    with path.open("w") as out:
        for _ in range(count):
            nonce = secrets.token_hex(6)
            parts = "".join(sorted([TOKEN, timestamp, nonce]))
            signature = hashlib.sha1(parts.encode()).hexdigest()
            out.write(f"signature={signature}&timestamp={timestamp}&nonce={nonce}\n")


def run_wrk(url: str, args: argparse.Namespace, queries: Path) -> dict[str, float]:
    """One wrk run; fresh signed queries each time (a nonce used twice is a replay, 403)."""
    signed_queries(queries, QUERIES_PER_RUN)
    env = dict(os.environ, WRK_QUERIES=str(queries), WRK_THREADS=str(args.wrk_threads),
               WRK_MSGID_BASE=str(int(time.time() * 1000) * 1000))
    result = subprocess.run(
        ["wrk", "-t", str(args.wrk_threads), "-c", str(args.connections),
         "-d", f"{args.duration}s", "--timeout", "10s", "--latency", "-s", str(LUA), url],
        env=env, capture_output=True, text=True, check=True)
    return parse_wrk(result.stdout)


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(out: str) -> dict[str, float]:
    stats: dict[str, float] = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out)[1])}
    for pct in ("50", "90", "99"):
        match = re.search(rf"^\s+{pct}%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)
        stats[f"p{pct}"] = _ms(match[1], match[2]) if match else float("nan")
    total = re.search(r"(\d+) requests in", out)
    stats["requests"] = float(total[1]) if total else 0.0
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    stats["non2xx"] = float(errors[1]) if errors else 0.0
    replied = re.search(r"REPLIED (\d+)", out)
    stats["replied"] = float(replied[1]) if replied else 0.0
    return stats


@contextlib.contextmanager
def echo_server(tmp: Path, args: argparse.Namespace) -> Iterator[str]:
    port = free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    proc = subprocess.Popen(
        [gunicorn, "--chdir", str(ROOT / "bench"), "-w", str(args.workers),
         "-k", "wuye.server.ReadTimeoutWorker", "--threads", str(args.threads),
         "--keep-alive", "5", "--no-control-socket", "-b", f"127.0.0.1:{port}",
         "--log-level", "warning", "echo_webhook:app"],
        env=dict(os.environ, ECHO_TOKEN=TOKEN, PYTHONPATH=str(ROOT)),
        stdout=(tmp / "echo.log").open("wb"), stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 30
        while not _listening(port):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((tmp / "echo.log").read_text())
            time.sleep(0.1)
        url = f"http://127.0.0.1:{port}"
        yield url
    finally:
        proc.terminate()
        proc.wait(30)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.5).close()
    except OSError:
        return False
    return True


@contextlib.contextmanager
def storage(args: argparse.Namespace) -> Iterator[dict[str, str]]:
    if args.sqlite:
        yield {"WUYE_REDIS_URL": "memory://bench"}
        return
    with redis_server() as redis_url, postgres_server() as pg_url:
        yield {"WUYE_REDIS_URL": redis_url,
               "WUYE_DATABASE_URL": pg_url.rsplit("/", 1)[0] + "/postgres"}


def cpu_seconds() -> dict[str, float]:
    """CPU time used so far by each kind of process this bench started (from /proc:
    its descendants only, whatever else runs on the machine)."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats: dict[int, tuple[int, float, str]] = {}  # pid -> (parent, seconds, cmdline)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        stats[int(stat.parent.name)] = (int(fields[1]), seconds, cmdline)
    ours = {os.getpid()}
    grew = True
    while grew:
        found = {pid for pid, (parent, _, _) in stats.items() if parent in ours} - ours
        grew = bool(found)
        ours |= found
    used: dict[str, float] = {}
    for pid in ours - {os.getpid()}:
        if pid not in stats:
            continue
        _, seconds, cmdline = stats[pid]
        kind = ("postgres" if "postgres" in cmdline else
                "redis-server" if "redis-server" in cmdline else
                "wrk" if cmdline.split(" ", 1)[0].endswith("wrk") else
                "wuye worker" if "wuye worker" in cmdline else
                "wuye serve (gunicorn)" if "wuye serve" in cmdline else
                "echo (gunicorn)" if "echo_webhook" in cmdline else "other")
        used[kind] = used.get(kind, 0.0) + seconds
    return used


def show_cpu(before: dict[str, float], after: dict[str, float], pushes: float) -> None:
    """Where the cores went during a run, per push."""
    spent = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    print("  CPU per push by process (ms): " + ", ".join(
        f"{k} {v / max(pushes, 1) * 1000:.2f}" for k, v in
        sorted(spent.items(), key=lambda kv: -kv[1]) if v > 0.05), flush=True)


def show(name: str, stats: dict[str, float]) -> None:
    share = stats["replied"] / stats["requests"] if stats["requests"] else 0.0
    print(f"{name:<44} {stats['rps']:8.1f} pushes/s  p50 {stats['p50']:7.1f} ms  "
          f"p90 {stats['p90']:7.1f} ms  p99 {stats['p99']:7.1f} ms  "
          f"replied {share:6.1%}  non-2xx {int(stats['non2xx'])}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=8, help="gthread threads per process")
    parser.add_argument("--sqlite", action="store_true",
                        help="SQLite + in-process Redis, one worker (no PostgreSQL/Redis)")
    parser.add_argument("--profile", action="store_true",
                        help="afterwards, sample the app under load with py-spy")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: bash scripts/ensure-system-deps.sh")
    if args.sqlite:
        args.workers = 1
    tmp = Path(tempfile.mkdtemp(prefix="wuye-bench-"))
    queries = tmp / "queries.txt"
    from bot.fake_wechat import FakeWechatApi

    with storage(args) as urls, FakeWechatApi() as fake:
        print(f"gunicorn {args.workers} workers x {args.threads} threads (gthread); wrk "
              f"{args.connections} connections, {args.duration} s; "
              f"{'SQLite + memory://' if args.sqlite else 'PostgreSQL + Redis'}", flush=True)
        with echo_server(tmp, args) as echo_url:
            run_wrk(echo_url, argparse.Namespace(**{**vars(args), "duration": 2}), queries)
            before = cpu_seconds()
            echo = run_wrk(echo_url, args, queries)
            echo_cpu = cpu_seconds()
        show("bare wechatpy + Flask echo webhook", echo)
        show_cpu(before, echo_cpu, echo["requests"])
        settings = {**urls, "WUYE_SERVER_SECRET_KEY": "bench-secret-key-0123456789",
                    "WUYE_SERVER_THREADS": str(args.threads),
                    "WUYE_SERVER_ACCESS_LOG": "false", "WUYE_LOG_LEVEL": "WARNING",
                    "WUYE_WECHAT_API_BASE": fake.base_url,
                    "WUYE_NLU_MODEL_DIR": str(ROOT / "var" / "models")}
        with production_stack(tmp / "app", settings, workers=args.workers,
                              with_worker=not args.sqlite, with_nginx=False) as stack:
            wait_ready(stack.app_url + "/readyz")
            run_wrk(stack.app_url, argparse.Namespace(**{**vars(args), "duration": 3}),
                    queries)
            before = cpu_seconds()
            ours = run_wrk(stack.app_url, args, queries)
            ours_cpu = cpu_seconds()
            show(f"wuye serve --workers {args.workers}"
                 f"{'' if args.sqlite else ' (+ wuye worker)'}", ours)
            show_cpu(before, ours_cpu, ours["requests"])
            print(f"ratio (wuye / echo): {ours['rps'] / echo['rps']:.3f}", flush=True)
            if args.profile:
                profile(stack.processes["web"].pid, stack.app_url, args, queries, tmp)


AREAS = [  # the leaf frame's file decides where a sample's time went; first match wins
    ("database (SQLAlchemy + psycopg/sqlite)", ("sqlalchemy", "psycopg", "sqlite3")),
    ("redis client", ("/redis/", "fakeredis")),
    ("NLU (normalize, jieba, models, retrieval)", ("/nlu/", "jieba", "numpy", "opencc")),
    ("dialogue engine, actions, state", ("/bot/engine", "/handlers/", "rasa_sdk",
                                         "/bot/policy", "/bot/state", "/bot/handover",
                                         "/bot/menu", "pydantic")),
    ("gateway, messages, outbox enqueue", ("/bot/gateway", "/bot/messages", "/bot/outbox",
                                           "/bot/replies")),
    ("webhook: signature, XML", ("/bot/webhook", "/bot/inbound", "wechatpy", "xml")),
    ("Flask / Werkzeug / gunicorn", ("flask", "werkzeug", "gunicorn", "jinja2")),
    ("metrics, logging", ("prometheus_client", "logging", "/core/logging", "/wuye/web")),
    ("sockets, threads, selectors", ("socket", "selectors", "threading", "concurrent",
                                     "queue", "ssl")),
]
MARKERS = [  # inclusive: share of samples with this frame anywhere on the stack
    ("NLU understand", "understand (nlu/"),
    ("store inbound (transaction)", "store_inbound ("),
    ("engine.handle (turn)", "handle (bot/engine.py"),
    ("state load/save", "(bot/state.py"),
    ("turn outcome (one transaction)", "write_outcome ("),
    ("statement deadlines (set_config)", "limit_statements ("),
    ("FAQ entry read", "FaqRepository.get ("),
    ("SQL commit", "commit ("),
    ("Redis round trips", "read_response ("),
]


def profile(pid: int, url: str, args: argparse.Namespace, queries: Path, tmp: Path) -> None:
    """py-spy on the gunicorn master and its workers while wrk pushes again."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    out = tmp / "profile.txt"
    sampler = subprocess.Popen([py_spy, "record", "--pid", str(pid), "--subprocesses",
                                "--format", "raw", "--rate", "200", "--nonblocking", "--gil",
                                "--duration", str(args.duration), "--output", str(out)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    stats = run_wrk(url, args, queries)
    sampler.wait(args.duration + 30)
    pushes = stats["requests"] or 1.0
    own: dict[str, int] = {}
    inclusive = dict.fromkeys((name for name, _ in MARKERS), 0)
    total = 0
    for line in out.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        leaf = stack.rsplit(";", 1)[-1]
        name = next((n for n, needles in AREAS if any(x in leaf for x in needles)), "other")
        own[name] = own.get(name, 0) + count
        for marker, needle in MARKERS:
            if needle in stack:
                inclusive[marker] += count
    if not total:
        print("py-spy recorded nothing (is ptrace allowed?)")
        return
    per_push = args.duration * 1000 / pushes  # wall ms per push across the whole server
    print(f"\nprofile: py-spy output in {out}")
    print(f"profile (py-spy, {total} samples of busy threads, {int(pushes)} pushes; "
          f"{per_push:.2f} ms of wall time per push across all workers):")
    print("  own time by area:")
    for name, count in sorted(own.items(), key=lambda kv: -kv[1]):
        print(f"    {name:<44} {count / total:6.1%}")
    print("  inclusive (time under):")
    for name, count in inclusive.items():
        print(f"    {name:<44} {count / total:6.1%}")


if __name__ == "__main__":
    main()
