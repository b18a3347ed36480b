"""Start-up to ready: the production server against the floor, and what is left to cut.

In one run, on PostgreSQL + Redis started on loopback (as the tests do) and a
non-default secret key: `wuye serve --workers 2` (gunicorn, production settings)
is spawned several times and timed until `/readyz` answers 200; then one signed
push from a new resident is timed (the first push after ready must be answered by
the NLU, not pay for anything loaded late), beside later pushes for comparison.
The bare wechatpy + Flask echo app (bench/echo_webhook.py) under the same gunicorn
settings is timed the same way, as the floor. Prints median and max of each, the
target (ours ≤ 2 s), and an import-time breakdown of what the server imports.

The first start of the run (migrations on an empty database, a model trained if
var/models has none) is a warm-up and not counted: an operator's restart is the
case measured.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.prodstack import stack_env  # noqa: E402
from tests.servers import free_port, postgres_server, redis_server  # noqa: E402

TOKEN = "wuye-demo-token"
TARGET_SECONDS = 2.0
BIN = Path(sys.executable).parent
# What the server's master imports before forking: the CLI, the gunicorn glue, the app
# with every page module (wuye.server.import_app).
SERVE_IMPORTS = "import wuye.cli, wuye.server; wuye.server.import_app()"
FIRST_PUSH = "物业费多少钱一平"
LATER_PUSHES = ("停车费怎么收", "卫生间漏水了", "你好", "服务中心几点上班", FIRST_PUSH)


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@contextlib.contextmanager
def spawned(cmd: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Run one server; SIGTERM it (its own pid) and wait afterwards."""
    proc = subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            cwd=ROOT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def until_ready(proc: subprocess.Popen[bytes], url: str, started: float, log: Path,
                timeout: float = 120.0) -> float:
    """Seconds from `started` until `url` answers 200 (polled every 10 ms)."""
    while not _answers(url):
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()}")
        if time.perf_counter() - started > timeout:
            raise RuntimeError(f"{url} not ready after {timeout} s:\n{log.read_text()}")
        time.sleep(0.01)
    return time.perf_counter() - started


def timed_pushes(base_url: str) -> tuple[float, float]:
    """(first push's latency, median of the later ones), each from a new resident; every
    answer must be a passive text reply, i.e. the NLU answered within the request."""
    from bot.push import WechatPusher

    pusher = WechatPusher(base_url, TOKEN, "wx0000000000demo")
    latencies = []
    for i, text in enumerate((FIRST_PUSH, *LATER_PUSHES)):
        started = time.perf_counter()
        result = pusher.text(f"o_startup_{os.getpid()}_{time.time_ns()}_{i}", text)
        latencies.append(time.perf_counter() - started)
        if result.status_code != 200 or not result.text:
            raise RuntimeError(f"push {text!r}: {result.status_code} {result.body[:200]!r}")
    return latencies[0], statistics.median(latencies[1:])


# Log lines that mark the phases of our start (the master's, then the first worker's).
PHASES = (("master: database migrated, app imported, dictionary loaded",
           "database migrated and app imported"),
          ("master: services and app built (preloaded)", "services built in"),
          ("first worker forked", "Booting worker"))
Run = tuple[float, float, float]


def measure(start: Callable[[Path], tuple[list[str], dict[str, str]]], base_url: str,
            tmp: Path, name: str, phases: dict[str, list[float]] | None = None) -> Run:
    """One start: (seconds to ready, first push, later pushes); `phases` collects the
    seconds from spawning to each line of PHASES in the server's log."""
    cmd, env = start(tmp)
    log = tmp / f"{name}.log"
    started, spawned_at = time.perf_counter(), time.time()
    with spawned(cmd, env, log) as proc:
        ready = until_ready(proc, base_url + "/readyz", started, log)
        first, later = timed_pushes(base_url)
    if phases is not None:
        for phase, seconds in phase_times(log.read_text(errors="replace"), spawned_at).items():
            phases.setdefault(phase, []).append(seconds)
    return ready, first, later


def phase_times(log_text: str, spawned_at: float) -> dict[str, float]:
    """Seconds from spawning to the first log line of each phase (plain log format)."""
    found: dict[str, float] = {}
    for line in log_text.splitlines():
        stamp = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) ", line)
        for phase, marker in PHASES:
            if stamp and marker in line and phase not in found:
                when = datetime.strptime(stamp[1], "%Y-%m-%d %H:%M:%S,%f").timestamp()
                found[phase] = when - spawned_at
    return found


def ours(settings: dict[str, str], port: int, workers: int
         ) -> Callable[[Path], tuple[list[str], dict[str, str]]]:
    def start(tmp: Path) -> tuple[list[str], dict[str, str]]:
        env = stack_env(tmp, {"WUYE_SERVER_PORT": str(port), **settings})
        return [str(BIN / "wuye"), "serve", "--workers", str(workers)], env
    return start


def echo(port: int, workers: int, threads: int
         ) -> Callable[[Path], tuple[list[str], dict[str, str]]]:
    """The echo app under gunicorn with the settings `wuye serve` gives gunicorn."""
    def start(_tmp: Path) -> tuple[list[str], dict[str, str]]:
        cmd = [str(BIN / "gunicorn"), "--chdir", str(ROOT / "bench"), "-w", str(workers),
               "-k", "wuye.server.ReadTimeoutWorker", "--threads", str(threads),
               "--keep-alive", "5", "--no-control-socket", "-b", f"127.0.0.1:{port}",
               "--log-level", "warning", "echo_webhook:app"]
        return cmd, dict(os.environ, ECHO_TOKEN=TOKEN, PYTHONPATH=str(ROOT))
    return start


def import_breakdown(top: int) -> None:
    """`python -X importtime` of the serving entry points: total, slowest subtrees,
    and self time summed by top-level package."""
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", SERVE_IMPORTS],
                            capture_output=True, text=True, check=True, cwd=ROOT)
    rows = []
    for line in result.stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \| (\s*)(\S+)", line)
        if match:
            rows.append((int(match[1]), int(match[2]), len(match[3]) // 2, match[4]))
    total = sum(cumulative for _, cumulative, depth, _ in rows if depth == 0)
    print(f"\nimport time of `{SERVE_IMPORTS}`: {total / 1e6:.2f} s "
          f"({len(rows)} modules; -X importtime inflates it a little)")
    print(f"  top {top} by cumulative time (a module with what it imports first):")
    for _, cumulative, depth, name in sorted(rows, key=lambda r: -r[1])[:top]:
        print(f"    {cumulative / 1000:7.1f} ms  {'  ' * min(depth, 8)}{name}")
    by_package: dict[str, int] = defaultdict(int)
    for own, _, _, name in rows:
        by_package[name.split(".")[0]] += own
    print(f"  top {top} packages by own import time:")
    for name, own in sorted(by_package.items(), key=lambda item: -item[1])[:top]:
        print(f"    {own / 1000:7.1f} ms  {name}")


def summary(name: str, runs: list[Run], target: str = "") -> None:
    ready = [r for r, _, _ in runs]
    first = [f for _, f, _ in runs]
    later = [x for _, _, x in runs]
    print(f"{name:<40} ready median {statistics.median(ready):5.2f} s  max {max(ready):5.2f} s"
          f"{target}   first push median {statistics.median(first) * 1000:6.1f} ms  "
          f"max {max(first) * 1000:6.1f} ms   later pushes "
          f"{statistics.median(later) * 1000:6.1f} ms", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=5, help="timed starts of each server")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn processes")
    parser.add_argument("--threads", type=int, default=8, help="gthread threads per process")
    parser.add_argument("--top", type=int, default=15, help="rows of the import breakdown")
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="wuye-startup-"))
    from bot.fake_wechat import FakeWechatApi

    with redis_server() as redis_url, postgres_server() as pg_url, FakeWechatApi() as fake:
        settings = {
            "WUYE_REDIS_URL": redis_url,
            "WUYE_DATABASE_URL": pg_url.rsplit("/", 1)[0] + "/postgres",
            "WUYE_SERVER_SECRET_KEY": "bench-startup-secret-key-0123456789",
            "WUYE_SERVER_THREADS": str(args.threads),
            "WUYE_SERVER_RUN_BACKGROUND_JOBS": "false",  # a `wuye worker` would send
            "WUYE_LOG_LEVEL": "INFO",
            "WUYE_WECHAT_API_BASE": fake.base_url,
            "WUYE_NLU_MODEL_DIR": str(ROOT / "var" / "models"),
        }
        port, echo_port = free_port(), free_port()
        start_ours = ours(settings, port, args.workers)
        start_echo = echo(echo_port, args.workers, args.threads)
        url, echo_url = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{echo_port}"
        print(f"gunicorn {args.workers} workers x {args.threads} threads (gthread); "
              f"PostgreSQL + Redis on loopback; {args.repeat} timed starts each "
              f"(load average {os.getloadavg()[0]:.2f})", flush=True)
        warm = measure(start_ours, url, tmp, "warm-up")
        print(f"warm-up start (migrations, seed data, model if none): {warm[0]:.2f} s",
              flush=True)
        runs: dict[str, list[Run]] = {"ours": [], "echo": []}
        phases: dict[str, list[float]] = {}
        for i in range(args.repeat):  # interleaved, so both see the same machine load
            runs["echo"].append(measure(start_echo, echo_url, tmp, f"echo-{i}"))
            runs["ours"].append(measure(start_ours, url, tmp, f"wuye-{i}", phases))
        summary("bare wechatpy + Flask echo (floor)", runs["echo"])
        median = statistics.median(r for r, _, _ in runs["ours"])
        verdict = "met" if median <= TARGET_SECONDS else "NOT met"
        summary(f"wuye serve --workers {args.workers}", runs["ours"],
                f"  (target ≤ {TARGET_SECONDS:.0f} s: {verdict})")
        echo_median = statistics.median(r for r, _, _ in runs["echo"])
        print(f"ours - echo (start-up cost of the app itself): {median - echo_median:.2f} s",
              flush=True)
        print("our start, median seconds from spawning to:")
        for phase, _ in PHASES:
            if phases.get(phase):
                print(f"  {statistics.median(phases[phase]):5.2f} s  {phase}")
        print(f"  {median:5.2f} s  /readyz answers 200", flush=True)
    import_breakdown(args.top)
    print(f"\nlogs: {tmp}")


if __name__ == "__main__":
    main()
