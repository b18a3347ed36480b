"""`wuye actions`: the ticket actions served by rasa-sdk's action server, for a Rasa assistant.

Actions are registered explicitly on an ActionExecutor (no package scanning); the
server is rasa-sdk's own Sanic endpoint, bound to loopback by default.
"""

from __future__ import annotations

import argparse
import inspect
import logging
from collections.abc import Sequence
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.endpoint import create_app
from rasa_sdk.executor import ActionExecutor
from sanic import Sanic

from communities import context
from communities.residents import ResidentCommunities
from core.config import Config, load_config
from core.db import make_engine, make_session_factory, upgrade
from handlers.deps import HandlerDeps
from handlers.tickets.actions import build_submits, build_validators
from handlers.tickets.emergency import EmergencyAction
from handlers.tickets.status import TicketRatingAction, TicketStatusAction

DEFAULT_PORT = 5055
log = logging.getLogger(__name__)


def served_actions(deps: HandlerDeps) -> list[Action]:
    """Form validation and submit actions, plus the single-step ticket actions."""
    return [*build_validators(deps), *build_submits(deps), EmergencyAction(deps),
            TicketStatusAction(deps), TicketRatingAction(deps)]


class ForResidentsCommunity(Action):
    """Runs an action for the community of the tracker's resident, as the engine does."""

    def __init__(self, inner: Action, residents: ResidentCommunities) -> None:
        self.inner = inner
        self.residents = residents

    def name(self) -> str:
        return self.inner.name()

    async def run(self, dispatcher: Any, tracker: Tracker,
                  domain: dict[str, Any]) -> list[dict[str, Any]]:
        with context.serving(self.residents.resolve(tracker.sender_id)):
            result = self.inner.run(dispatcher, tracker, domain)
            if inspect.isawaitable(result):
                result = await result
            return list(result or [])


def build_executor(deps: HandlerDeps) -> ActionExecutor:
    executor = ActionExecutor()
    residents = ResidentCommunities(deps.sessions)
    for action in served_actions(deps):
        executor.register_action(ForResidentsCommunity(action, residents))
    return executor


def build_deps(config: Config) -> HandlerDeps:
    """Only storage: the action server does not talk to WeChat (creation needs no notice)."""
    from knowledge_base.repository import FaqRepository

    sessions = make_session_factory(make_engine(config.database_url))
    return HandlerDeps(config=config, sessions=sessions, faqs=FaqRepository(sessions))


def build_app(deps: HandlerDeps) -> Sanic:
    return create_app(build_executor(deps), cors_origins=[])


def serve(config: Config, host: str = "127.0.0.1", port: int = DEFAULT_PORT) -> None:
    app = build_app(build_deps(config))
    log.info("rasa-sdk action server on http://%s:%d/webhook", host, port)
    app.run(host=host, port=port, single_process=True, access_log=False, motd=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="wuye actions")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO)
    config = load_config()
    upgrade(config.database_url)
    serve(config, args.host, args.port)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
