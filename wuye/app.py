"""The app factory: nothing happens at import; create_app(config) builds everything."""

from __future__ import annotations

import dataclasses
import logging
import threading

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

import admin
from bot import simulator, webhook
from bot.fake_wechat import FakeWechatApi
from core.config import Config, ServerConfig, load_config
from desk.jobs import DeskJobs
from wuye import web
from wuye.demo import bind_demo_personas, load_demo_communities
from wuye.services import Services, build_services

log = logging.getLogger(__name__)


def with_demo_wechat(config: Config) -> tuple[Config, FakeWechatApi]:
    """Demo mode: start the loopback fake WeChat API and point every WeChat URL at it."""
    fake = FakeWechatApi(appid=config.wechat.appid, secret=config.wechat.secret).start()
    wechat = dataclasses.replace(config.wechat, api_base=fake.base_url)
    return dataclasses.replace(config, wechat=wechat), fake


def create_app(config: Config | None = None, services: Services | None = None,
               background: bool = True) -> Flask:
    """Build the Flask app with its services.

    `background` starts the NLU reloader, and the outbox sender unless
    `server.run_background_jobs` is off (a `wuye worker` runs it instead).
    """
    config = config or load_config()
    fake = None
    if services is None:
        if config.server.demo and config.wechat.api_base.startswith("https://api.weixin"):
            config, fake = with_demo_wechat(config)
        services = build_services(config, fake_wechat=fake)
    if not config.server.demo and config.server.secret_key == ServerConfig.secret_key:
        log.warning("server.secret_key is the built-in default: set WUYE_SERVER_SECRET_KEY, "
                    "or console sessions can be forged")
    app = Flask(__name__)
    app.config.update(SECRET_KEY=config.server.secret_key,
                      MAX_CONTENT_LENGTH=config.server.max_body_bytes)
    if config.server.trusted_proxies:  # nginx in front: its X-Forwarded-* are the truth
        hops = config.server.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops,  # type: ignore[method-assign]
                                x_host=hops)
    app.extensions["wuye"] = services
    web.install(app, services)
    app.register_blueprint(webhook.bp)
    if config.server.demo:
        app.register_blueprint(simulator.bp)
        load_demo_communities(services.sessions, services.config)
        app.extensions["wuye_personas"] = bind_demo_personas(services.sessions)
    admin.register(app)
    if background:
        start_background(services)
    return app


def start_background(services: Services) -> None:
    """The serving process's threads: the NLU reloader, and the outbox sender unless
    `server.run_background_jobs` is off. A forking server starts them in each worker."""
    if services.config.server.run_background_jobs:  # no `wuye worker`: send and recover here
        services.outbox.start_background(
            jobs=[services.sweeper.tick, services.silence.tick, DeskJobs(services).tick])
    _start_reloader(services)


def _knowledge_tick(services: Services) -> None:
    """Scheduled notices due, delivery reports, the pushed menu's keys (issue 15)."""
    try:
        if services.notices is not None:
            services.notices.send_due()
            services.notices.sync()
        if services.menus is not None:
            services.menus.refresh_live_keys()
    except Exception:  # the database may be briefly away; try again next tick
        log.exception("knowledge tick failed")


def _start_reloader(services: Services) -> None:
    """Pick up a newer NLU model (and FAQ edits) without a restart."""
    stop = services.stopping
    interval = services.config.nlu.reload_check_seconds

    def loop() -> None:
        while not stop.wait(interval):
            try:
                services.understander.reload_if_newer()
            except Exception:
                log.exception("NLU reload failed; keeping the current model")
            _knowledge_tick(services)

    threading.Thread(target=loop, name="nlu-reloader", daemon=True).start()
