"""Short-lived shared copies of what nearly every push reads and admins rarely change."""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session, sessionmaker

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SharedReads(Generic[K, V]):
    """Values read through a session factory, shared by every reader of that database in
    this process for `seconds`. A write made here is seen at once (`drop`, or a change of
    `generation`); one made by another process once the copy is that old."""

    def __init__(self, seconds: float, generation: Callable[[], int] | None = None) -> None:
        self.seconds = seconds
        self._generation = generation
        self._by_db: weakref.WeakKeyDictionary[
            sessionmaker[Session], tuple[int, dict[K, tuple[V, float]]]] = \
            weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def get(self, sessions: sessionmaker[Session], key: K, read: Callable[[], V]) -> V:
        """The shared copy of `key`, or `read()` once it is missing or stale."""
        generation = self._generation() if self._generation is not None else 0
        with self._lock:
            known = self._by_db.get(sessions)
            if known is None or known[0] != generation:
                known = self._by_db[sessions] = (generation, {})
            found = known[1].get(key)
        if found is not None and time.monotonic() - found[1] < self.seconds:
            return found[0]
        read_at = time.monotonic()
        value = read()
        with self._lock:
            known[1][key] = (value, read_at)
        return value

    def drop(self, sessions: sessionmaker[Session]) -> None:
        """A write through this process: every reader reads again."""
        with self._lock:
            self._by_db.pop(sessions, None)
