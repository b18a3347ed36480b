"""The production web server: the app under gunicorn's threaded (gthread) workers.

Why gunicorn and these settings: a fixed thread pool per process (no thread per
connection), a cap on open connections, a read deadline on every request socket (a
client that stalls mid-request is cut off; behind nginx, which buffers whole requests,
slow clients never reach gunicorn at all), graceful stop that lets
in-flight turns finish, and an access log that never carries a query string
(WeChat's signature is in it). The master migrates, makes sure a model exists and
builds the app once (gunicorn preload) before forking: the workers share it
copy-on-write, and each opens its own connections (sockets are not shared across
fork) and starts its own threads.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import logging
import os
import pkgutil
import time
from collections.abc import Callable
from typing import Any

from gunicorn import glogging
from gunicorn.app.base import BaseApplication
from gunicorn.workers.gthread import TConn, ThreadWorker

from core.config import Config
from core.logging import make_formatter

log = logging.getLogger(__name__)

# %(U)s is the path without the query string; the request id ties it to app logs.
ACCESS_LOG_FORMAT = '%(h)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms rid=%({x-request-id}o)s'
_read_timeout = 10.0  # set by WuyeServer in the master, inherited by forked workers
_services: Any = None  # built in the master (preloaded), one copy per worker; closed on exit


class _TimedConn(TConn):
    """A connection whose socket reads and writes give up after the read timeout."""

    def init(self) -> None:
        super().init()
        self.sock.settimeout(_read_timeout)


class ReadTimeoutWorker(ThreadWorker):
    """gthread with a deadline on each socket read and write (gunicorn has none of its own)."""

    def enqueue_req(self, conn: TConn) -> None:
        if type(conn) is TConn:
            conn.__class__ = _TimedConn
        super().enqueue_req(conn)


class MaskedLogger(glogging.Logger):
    """gunicorn's error and access logs through our masking (or JSON) formatter."""

    json_lines = False

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for logger in (self.error_log, self.access_log):
            for handler in logger.handlers:
                handler.setFormatter(make_formatter(self.json_lines))
        self.error_log.addFilter(_slow_client_line)


def _slow_client_line(record: logging.LogRecord) -> bool:
    """A client cut off at the read deadline is expected: one line, not a traceback."""
    if record.exc_info and isinstance(record.exc_info[1], TimeoutError):
        record.msg, record.args, record.exc_info = (
            "closed a connection that sent no complete request within the read deadline",
            (), None)
        record.levelno, record.levelname = logging.INFO, "INFO"
    return True


def gunicorn_options(config: Config, bind: str, workers: int) -> dict[str, Any]:
    server = config.server
    return {
        "bind": bind,
        "workers": workers,
        "worker_class": "wuye.server.ReadTimeoutWorker",
        "threads": server.threads,
        # gthread keeps idle keep-alive connections in a poller, not on a thread;
        # beyond this many a worker stops accepting until some close.
        "worker_connections": max(server.threads * 8, 64),
        "keepalive": 5,
        "timeout": 60,
        "graceful_timeout": server.graceful_timeout_seconds,
        "limit_request_line": 4094,
        "limit_request_fields": 50,
        "accesslog": "-" if server.access_log else None,
        "access_log_format": ACCESS_LOG_FORMAT,
        "errorlog": "-",
        "loglevel": config.log.level.lower(),
        "logger_class": MaskedLogger,
        "proc_name": "wuye-web",
        # Build once in the master, fork after (demo: each worker its own fake WeChat).
        "preload_app": not config.server.demo,
        "post_fork": _post_fork,
        "worker_exit": _worker_exit,
        "child_exit": _child_exit,
        # gunicorn ≥ 25 opens a control socket in $HOME by default; several servers
        # on one host (web + bench) would fight over it, and nothing here uses it.
        "control_socket_disable": True,
    }


def prepare(config: Config) -> None:
    """Once, in the master: migrate, make sure a model exists, seed the first data, and
    import and load what every worker shares.

    Done before forking so workers never race to train a model or insert the demo
    knowledge base and the default canned replies. Once the app is imported, the
    database work runs in a forked child (on the other core) while this process loads
    jieba's dictionary. The cyclic GC is off meanwhile: start-up creates hundreds of
    thousands of objects that live as long as the process, and walking them again and
    again costs a fifth of the import time.
    """
    started = time.monotonic()
    gc.disable()
    try:
        import_app()
        from nlu.tokenizer import preload

        child = _fork(_migrate_and_seed, config)
        preload(config.path(config.nlu.model_dir))
        _, status = os.waitpid(child, 0)
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit("wuye serve: migrating or seeding the database failed (logged above)")
    finally:
        gc.freeze()  # inherited by the workers: long-lived, kept out of every GC walk
        gc.enable()
    log.info("database migrated and app imported in %.2f s", time.monotonic() - started)


def _fork(work: Callable[[Config], None], config: Config) -> int:
    """Run `work(config)` in a child process (no threads exist yet to be lost); its pid."""
    pid = os.fork()
    if pid:
        return pid
    code = 1
    try:
        work(config)
        code = 0
    except BaseException:
        log.exception("start-up step %s failed", work.__name__)
    finally:
        logging.shutdown()  # flush the handlers: os._exit skips every exit hook
        os._exit(code)


def _migrate_and_seed(config: Config) -> None:
    from admin.pages import seed_canned
    from core.db import make_engine, make_session_factory, upgrade
    from knowledge_base.demo import load_demo_if_empty
    from knowledge_base.referrals import load_referrals_if_missing
    from nlu.training import ensure_model

    upgrade(config.database_url)
    ensure_model(config.path(config.nlu.model_dir))
    engine = make_engine(config.database_url)
    try:
        sessions = make_session_factory(engine)
        load_demo_if_empty(sessions)
        load_referrals_if_missing(sessions)
        seed_canned(sessions)
    finally:
        engine.dispose()


def import_app() -> None:
    """Import everything a worker runs, once: forked workers inherit the modules
    copy-on-write instead of each importing them at start."""
    import admin
    import wuye.app  # noqa: F401

    for page in pkgutil.iter_modules(admin.__path__, "admin."):  # `admin.register` imports them
        importlib.import_module(page.name)
    for module in ("admin.pages", "knowledge_base.demo", "knowledge_base.referrals",
                   "nlu.training"):  # what the migrating child uses
        importlib.import_module(module)


def _worker_exit(_server: Any, _worker: Any) -> None:
    """Graceful stop: in-flight requests are done; let deferred turns and sends finish."""
    if _services is not None:
        _services.close()


def _child_exit(_server: Any, worker: Any) -> None:
    from core.metrics import mark_dead

    mark_dead(worker.pid)


class WuyeServer(BaseApplication):
    """`wuye serve` outside demo mode."""

    def __init__(self, config: Config, bind: str, workers: int) -> None:
        global _read_timeout
        self.config = config
        self.options = gunicorn_options(config, bind, workers)
        _read_timeout = config.server.read_timeout_seconds
        MaskedLogger.json_lines = config.log.json
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            if key in self.cfg.settings:  # settings differ across gunicorn versions
                self.cfg.set(key, value)

    def load(self) -> Any:
        """Outside demo mode gunicorn preloads: this runs once, in the master, and every
        worker forked afterwards shares the services and the app copy-on-write, opening
        its own connections and starting its own threads after the fork (`_post_fork`)."""
        global _services
        from wuye.app import create_app
        from wuye.services import build_services

        if self.config.server.demo:  # `serve --demo --workers N`: each its own fake WeChat
            app = create_app(self.config)
            _services = app.extensions["wuye"]
            return app
        started = time.monotonic()
        gc.disable()  # as in `prepare`: what is built here lives as long as the server
        try:
            _services = build_services(self.config, migrate=False)
            app = create_app(self.config, services=_services, background=False)
            _read_turn_data()
            _release_connections(_services)
        finally:
            gc.freeze()
            gc.enable()
        log.info("services built in %.2f s; forking the workers", time.monotonic() - started)
        return app


def _read_turn_data() -> None:
    """Data files a turn reads on first use (the menu's commands, the angry words): read
    once here, so no worker's first push waits for them."""
    from bot.menu import menu_table
    from handlers.phrases import phrases

    menu_table()
    phrases("angry")


def _open_connections(services: Any, count: int = 4) -> None:
    """A worker's first connections before it accepts (a first push would otherwise open
    several while WeChat waits). A store that is down only makes /readyz say so."""
    try:
        with contextlib.ExitStack() as opened:  # all back to the pool, still open
            for _ in range(count):
                opened.enter_context(services.db.connect())
        services.redis.ping()
    except Exception as exc:  # the worker still starts; /readyz reports the store
        log.warning("worker %d could not connect at start: %s", os.getpid(),
                    type(exc).__name__)


def _release_connections(services: Any) -> None:
    """Close the master's database and Redis connections before forking: a socket two
    processes share would interleave their traffic. Each worker opens its own on use."""
    services.db.dispose()
    services.redis.connection_pool.disconnect()


def _post_fork(_server: Any, _worker: Any) -> None:
    """In each new worker: its own threads (threads do not survive a fork) over the
    preloaded services; the pools were emptied in the master, so connections are new."""
    from wuye.app import start_background

    if _services is not None and not _services.config.server.demo:
        _services.db.dispose(close=False)  # belt and braces: drop anything inherited
        start_background(_services)
        _open_connections(_services)
