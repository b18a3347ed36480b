"""The composition root's parts list: every long-lived object, built once from config."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from typing import Any

import redis
from sqlalchemy import Engine as DbEngine
from sqlalchemy.orm import Session, sessionmaker

from bot.community_route import CommunityRoute
from bot.engine import Engine
from bot.fake_wechat import FakeWechatApi
from bot.gateway import Gateway
from bot.handover import Handover
from bot.menu_store import MenuStore
from bot.messages import MessageLog
from bot.notify import Notifier
from bot.outbox import Outbox
from bot.replies import Reply
from bot.silence import SilenceWatch
from bot.state import StateStore
from bot.sweeper import Sweeper
from bot.wechat_api import WechatApi
from communities.directory import Communities
from communities.residents import ResidentCommunities
from core.config import Config
from core.db import make_engine, make_session_factory, upgrade
from core.redis import connect_redis
from handlers.deps import HandlerDeps
from handlers.registry import Registry, build_actions
from knowledge_base.repository import FaqRepository
from knowledge_loop.retrain import Retrainer, live_trainer
from notices.service import NoticeService
from wuye.understanding import build_understander, thresholds

log = logging.getLogger(__name__)


@dataclass
class Services:
    config: Config
    db: DbEngine
    sessions: sessionmaker[Session]
    redis: redis.Redis
    understander: Any
    faqs: FaqRepository
    communities: Communities
    messages: MessageLog
    states: StateStore
    handover: Handover
    wechat_api: WechatApi
    outbox: Outbox
    notifier: Notifier
    deps: HandlerDeps
    registry: Registry
    engine: Engine
    gateway: Gateway
    sweeper: Sweeper
    silence: SilenceWatch
    fake_wechat: FakeWechatApi | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    # The admins' knowledge loop and outreach (issue 15).
    retrainer: Retrainer | None = None
    notices: NoticeService | None = None
    menus: MenuStore | None = None

    def close(self) -> None:
        self.stopping.set()
        self.outbox.stop()
        self.gateway.close()
        if self.fake_wechat is not None:
            self.fake_wechat.stop()
        self.db.dispose()


def build_services(config: Config, migrate: bool = True,
                   fake_wechat: FakeWechatApi | None = None) -> Services:
    """Connect storage, load the NLU and knowledge base, wire handlers and the engine."""
    if migrate:
        upgrade(config.database_url)
    db = make_engine(config.database_url)
    sessions = make_session_factory(db)
    redis_client = connect_redis(config.redis.url, config.redis.socket_timeout_seconds)
    communities = Communities(sessions)
    communities.ensure_first(config.service, config.handoff)
    understander = build_understander(config, sessions)
    faqs = FaqRepository(sessions)
    messages = MessageLog(sessions)
    states = StateStore(redis_client, sessions, config.conversation.state_ttl_seconds)
    handover = Handover(redis_client, states, sessions, config)
    wechat_api = WechatApi(config.wechat, redis_client)
    outbox = Outbox(sessions, wechat_api, config.outbox, on_change=handover.delivery_changed)
    notifier = Notifier(sessions, messages, outbox)
    deps = HandlerDeps(config=config, sessions=sessions, faqs=faqs, notifier=notifier)
    registry = Registry(build_actions(deps))
    route = CommunityRoute(ResidentCommunities(sessions, communities), deps.texts)
    engine = Engine(config, states, understander, registry, deps.texts, handover, deps.tickets,
                    community=route)
    gateway = Gateway(config.wechat, redis_client, sessions, messages, engine, outbox,
                      rate_notice=Reply(text=deps.texts("rate_limited")))
    sweeper = Sweeper(gateway, messages, config.wechat.processing_lease_seconds,
                      config.outbox.sweep_seconds)
    silence = SilenceWatch(sessions, handover, notifier, lambda: deps.texts("agent_busy_ack"),
                           route.resolve)
    retrainer = Retrainer(sessions, config, thresholds(config.nlu), understander,
                          trainer=live_trainer(sessions))
    notices = NoticeService(sessions, outbox, config)
    menus = MenuStore(sessions, wechat_api)
    return Services(
        config=config, db=db, sessions=sessions, redis=redis_client, understander=understander,
        faqs=faqs, communities=communities, messages=messages, states=states,
        handover=handover, wechat_api=wechat_api, outbox=outbox, notifier=notifier,
        deps=deps, registry=registry, engine=engine, gateway=gateway, sweeper=sweeper,
        silence=silence, fake_wechat=fake_wechat, retrainer=retrainer, notices=notices,
        menus=menus,
    )
