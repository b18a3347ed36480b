"""Jobs the worker loop polls on every tick, each run at most once per its own period."""

from __future__ import annotations

import time


class Every:
    """At most once per `seconds`: `due()` is true once the period has passed (and at first)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._next = 0.0

    def due(self) -> bool:
        now = time.monotonic()
        if now < self._next:
            return False
        self._next = now + self.seconds
        return True
