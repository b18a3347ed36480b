"""Finds pushes left `received`/`processing` past their lease and processes them.

A web process killed mid-turn, a turn that failed because Redis or the database
was away, an outcome that could not be written: each leaves a stored push whose
lease runs out. The sweeper (run by `wuye worker`, or by the web process's
background thread in single-process mode) claims it, runs the turn again and
delivers the replies through the outbox. Claims are exclusive, so a push is
answered by exactly one process.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.gateway import Gateway
from bot.inbound import InboundError, parse_inbound
from bot.messages import MessageLog
from core.metrics import SWEEPER_RECOVERIES
from core.schedule import Every

log = logging.getLogger(__name__)

# A push whose turn failed this many times waits for a person instead.
MAX_ATTEMPTS = 5
BATCH = 20


class Sweeper:
    def __init__(self, gateway: Gateway, messages: MessageLog, lease_seconds: float,
                 every_seconds: float) -> None:
        self.gateway = gateway
        self.messages = messages
        self.lease = timedelta(seconds=lease_seconds)
        self.every = Every(every_seconds)

    def tick(self) -> int:
        """Sweep if due (called from the worker loop every poll); return pushes recovered."""
        return self.run_once() if self.every.due() else 0

    def run_once(self) -> int:
        recovered = 0
        for claim, raw in self.messages.claim_stale(self.lease, BATCH):
            if claim.attempts > MAX_ATTEMPTS:
                log.error("message %s failed %s times; left for a person", claim.message_id,
                          claim.attempts - 1)
                self.messages.give_up(claim, f"not processed after {claim.attempts - 1} "
                                             "attempts")
                SWEEPER_RECOVERIES.labels("given_up").inc()
                continue
            try:
                inbound = parse_inbound(raw.encode("utf-8"))
            except InboundError as exc:
                self.messages.give_up(claim, f"stored push cannot be parsed: {exc}")
                continue
            log.info("sweeper: recovering message %s (attempt %s)", claim.message_id,
                     claim.attempts)
            self.gateway.process_claimed(inbound, claim)
            SWEEPER_RECOVERIES.labels("recovered").inc()
            recovered += 1
        return recovered
