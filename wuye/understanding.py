"""Builds the server's understander from the config: demo KB, newest model, live FAQ index."""

from __future__ import annotations

import gc

from sqlalchemy.orm import Session, sessionmaker

from core.config import Config, NluConfig
from knowledge_base.demo import load_demo_if_empty
from knowledge_base.referrals import load_referrals_if_missing
from knowledge_base.repository import FaqRepository
from nlu.engine import Thresholds
from nlu.live import LiveUnderstander
from nlu.second_opinion import SecondOpinion
from nlu.tokenizer import preload
from nlu.training import ensure_model


def thresholds(nlu: NluConfig) -> Thresholds:
    """The decision knobs of config.yaml's nlu section."""
    return Thresholds(
        faq_answer_threshold=nlu.faq_answer_threshold,
        faq_suggest_threshold=nlu.faq_suggest_threshold,
        confidence_threshold=nlu.confidence_threshold,
        classifier_threshold=nlu.classifier_threshold,
        margin_threshold=nlu.margin_threshold,
        faq_override_score=nlu.faq_override_score,
        emergency_floor=nlu.emergency_floor,
        faq_classifier_weight=nlu.faq_classifier_weight,
    )


def second_opinion(nlu: NluConfig) -> SecondOpinion | None:
    """The optional LLM second opinion for unsure decisions; None (off) without a URL."""
    if not nlu.llm_url:
        return None
    return SecondOpinion(nlu.llm_url, nlu.llm_model, nlu.llm_api_key, nlu.llm_timeout_seconds)


def build_understander(config: Config, sessions: sessionmaker[Session]) -> LiveUnderstander:
    """Load the demo KB if empty, the newest model (training one from the live KB if none),
    and serve both."""
    load_demo_if_empty(sessions)
    load_referrals_if_missing(sessions)
    repository = FaqRepository(sessions)
    model_dir = config.path(config.nlu.model_dir)
    ensure_model(model_dir, repository.list(enabled_only=True))
    preload(model_dir)  # jieba's dictionary from its cache beside the model (no-op if loaded)
    understander = LiveUnderstander(
        model_dir,
        repository,
        thresholds(config.nlu),
        kb_check_seconds=config.nlu.kb_check_seconds,
        second_opinion=second_opinion(config.nlu),
    )
    _freeze_startup_objects()
    return understander


_frozen = False


def _freeze_startup_objects() -> None:
    """Once per process: jieba's dictionary and the model are hundreds of thousands of
    long-lived objects; keep the cyclic GC from re-walking them (tail latency)."""
    global _frozen
    if not _frozen:
        gc.freeze()
        _frozen = True
