"""The understander a server holds: swaps in newer models and follows FAQ edits.

Requests only read `self._engine`; a reload builds a new engine aside and swaps
the reference, so readers never see a half-built one and never wait on training.
"""

from __future__ import annotations

import logging
import pickle
import threading
import time
from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from knowledge_base.repository import FaqRepository, local_generation
from nlu.decision import Decision
from nlu.engine import NluEngine, Thresholds
from nlu.model import ArtifactError, NluModel, load, newest_artifact
from nlu.retrieval import FaqRetriever
from nlu.second_opinion import SecondOpinion

log = logging.getLogger(__name__)


class LiveUnderstander:
    """Thread-safe `understand`, plus `reload_if_newer` for new model artifacts."""

    def __init__(
        self,
        model_dir: Path,
        repository: FaqRepository,
        thresholds: Thresholds,
        kb_check_seconds: float = 1.0,
        second_opinion: SecondOpinion | None = None,
    ) -> None:
        self._model_dir = model_dir
        self._repository = repository
        self._thresholds = thresholds
        self._kb_check_seconds = kb_check_seconds
        self._second_opinion = second_opinion
        self._lock = threading.Lock()
        path = newest_artifact(model_dir)
        if path is None:
            raise FileNotFoundError(f"no NLU model in {model_dir}")
        self._model_path = path
        self._rejected: Path | None = None
        self._kb_stamp = repository.stamp()
        self._local_generation = local_generation()
        self._kb_checked = time.monotonic()
        self._engine = NluEngine(load(path), self._retriever(), thresholds)

    @property
    def model(self) -> NluModel:
        return self._engine.model

    @property
    def model_path(self) -> Path:
        return self._model_path

    def understand(self, text: str) -> Decision:
        self._follow_kb()
        decision = self._engine.understand(text)
        if self._second_opinion is not None:
            decision = self._second_opinion.review(decision)
        return decision

    def reload_if_newer(self) -> bool:
        """Load a newer artifact if one appeared; True when the model changed."""
        path = newest_artifact(self._model_dir)
        if path is None or path == self._model_path:
            return False
        with self._lock:
            if path in (self._model_path, self._rejected):
                return False
            try:
                model = load(path)
            except (ArtifactError, OSError, pickle.UnpicklingError, EOFError):
                log.exception("NLU artifact %s not usable; keeping %s", path, self._model_path)
                self._rejected = path
                return False
            self._engine = NluEngine(model, self._engine.retriever, self._thresholds)
            self._model_path = path
        return True

    def refresh_kb(self, force: bool = True) -> bool:
        """Rebuild the FAQ index if the knowledge base changed; True when it did."""
        with self._lock:
            generation = local_generation()
            if not force and not self._kb_due() and generation == self._local_generation:
                return False  # another thread refreshed while this one waited
            stamp = self._repository.stamp()
            self._kb_checked = time.monotonic()
            if stamp == self._kb_stamp and generation == self._local_generation:
                return False
            self._engine = NluEngine(self._engine.model, self._retriever(), self._thresholds)
            self._kb_stamp, self._local_generation = stamp, generation
        return True

    def _follow_kb(self) -> None:
        # A write in this process is seen at once; other processes' writes within
        # kb_check_seconds, so the database is not queried on every message.
        if local_generation() != self._local_generation or self._kb_due():
            try:
                self.refresh_kb(force=False)
            except SQLAlchemyError:
                # Understanding must not fail with the database: answer from the last index.
                log.warning("FAQ index not refreshed: database unavailable", exc_info=True)
                self._kb_checked = time.monotonic()

    def _kb_due(self) -> bool:
        return time.monotonic() - self._kb_checked >= self._kb_check_seconds

    def _retriever(self) -> FaqRetriever:
        return FaqRetriever(self._repository.list(enabled_only=True))
