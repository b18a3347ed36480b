"""The production stack on loopback: `wuye serve --workers N` (gunicorn), `wuye worker`,
and Debian's nginx with the deploy/ site, each a real process on a free port.

nginx runs in the foreground with its own prefix and configuration in a temporary
directory, plain HTTP on loopback; the locations and proxy settings are the
deploy/nginx files themselves, with their paths pointed into that directory.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.servers import free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "nginx"
WUYE = str(Path(sys.executable).parent / "wuye")


@dataclass
class Stack:
    app_url: str  # gunicorn itself, on loopback
    url: str  # through nginx
    env: dict[str, str]
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def log_text(self, name: str) -> str:
        return (self.logs / f"{name}.log").read_text(encoding="utf-8", errors="replace")

    def wuye(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        """Run a `wuye` command against the stack's database and Redis."""
        return subprocess.run([WUYE, *args], env=self.env, input=stdin, text=True,
                              capture_output=True, timeout=60, check=False)

    def stop(self, name: str, timeout: float = 30.0) -> int:
        proc = self.processes.pop(name)
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM if name != "nginx" else signal.SIGQUIT)
        try:
            return proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait(5)


def stack_env(tmp: Path, settings: dict[str, str]) -> dict[str, str]:
    """The environment without the caller's WUYE_* settings, plus the stack's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WUYE_")}
    env.update({"WUYE_VAR_DIR": str(tmp / "var"), "WUYE_LOG_LEVEL": "INFO"})
    env.update(settings)
    return env


def nginx_conf(tmp: Path, listen: int, upstream: int) -> Path:
    """A foreground nginx: deploy/nginx's locations and proxy snippet, paths into tmp."""
    site = (DEPLOY / "wuye.conf").read_text(encoding="utf-8")
    log_format = re.search(r"log_format wuye_path_only[^;]*;", site, re.S)
    assert log_format, "deploy/nginx/wuye.conf lost its log_format"
    for name in ("wuye-locations.conf", "wuye-proxy.conf"):
        text = (DEPLOY / name).read_text(encoding="utf-8")
        text = text.replace("/etc/nginx/snippets/", f"{tmp}/").replace("/var/log/nginx/",
                                                                         f"{tmp}/")
        (tmp / name).write_text(text, encoding="utf-8")
    temp_paths = "\n".join(f"  {kind}_temp_path {tmp}/{kind};"
                           for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf = tmp / "nginx.conf"
    conf.write_text(f"""{user}worker_processes 1;
daemon off;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log crit;
events {{ worker_connections 512; }}
http {{
{temp_paths}
  {log_format.group(0)}
  upstream wuye_web {{ server 127.0.0.1:{upstream}; keepalive 16; }}
  server {{
    listen 127.0.0.1:{listen};
    include {tmp}/wuye-locations.conf;
  }}
}}
""", encoding="utf-8")
    return conf


def wait_ready(url: str, timeout: float = 60.0, proc: subprocess.Popen[bytes] | None = None
               ) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{url}: the server exited with {proc.returncode}")
        with contextlib.suppress(OSError):
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} not ready after {timeout} s")


@contextlib.contextmanager
def production_stack(tmp: Path, settings: dict[str, str], workers: int = 2,
                     with_worker: bool = True, with_nginx: bool = True) -> Iterator[Stack]:
    """Start gunicorn (+ worker, + nginx); stop them all (by their own pids) afterwards."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if with_nginx and not os.path.exists(nginx):
        raise RuntimeError("nginx is not installed: run `make test` (scripts/ensure-system-deps)")
    tmp.mkdir(parents=True, exist_ok=True)
    app_port, nginx_port = free_port(), free_port()
    env = stack_env(tmp, {"WUYE_SERVER_PORT": str(app_port),
                          "WUYE_SERVER_RUN_BACKGROUND_JOBS": str(not with_worker).lower(),
                          "WUYE_SERVER_TRUSTED_PROXIES": "1" if with_nginx else "0",
                          **settings})
    stack = Stack(f"http://127.0.0.1:{app_port}", f"http://127.0.0.1:{nginx_port}", env, tmp)
    try:
        stack.processes["web"] = _spawn([WUYE, "serve", "--workers", str(workers)], env,
                                        tmp / "web.log")
        wait_ready(stack.app_url + "/readyz", proc=stack.processes["web"])
        if with_worker:
            stack.processes["worker"] = _spawn([WUYE, "worker"], env, tmp / "worker.log")
        if with_nginx:
            conf = nginx_conf(tmp, nginx_port, app_port)
            stack.processes["nginx"] = _spawn(
                [nginx, "-p", str(tmp), "-c", str(conf), "-e", str(tmp / "error.log")], env,
                tmp / "nginx.log")
            wait_ready(stack.url + "/healthz", proc=stack.processes["nginx"])
        yield stack
    finally:
        for name in list(stack.processes):
            stack.stop(name)


def _spawn(cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(cmd, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT,
                            cwd=ROOT)
