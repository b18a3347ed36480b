"""NLU fixtures: one model trained per session, an engine over the demo KB, the baseline."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.config import load_config
from knowledge_base.demo import demo_entries
from knowledge_base.referrals import referral_entries
from knowledge_base.repository import Faq
from nlu.baseline import Baseline
from nlu.dataset import training_examples
from nlu.engine import NluEngine
from nlu.model import NluModel, load
from nlu.retrieval import FaqRetriever
from nlu.training import ensure_model
from wuye.understanding import thresholds

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / ".." / "shared" / "eval" / "nlu_sample.jsonl"


@pytest.fixture(scope="session")
def trained_model_dir(model_dir: Path) -> Path:
    """The session's model directory with an artifact in it (trained at most once)."""
    ensure_model(model_dir)
    return model_dir


@pytest.fixture(scope="session")
def model(trained_model_dir: Path) -> NluModel:
    return load(ensure_model(trained_model_dir))


@pytest.fixture(scope="session")
def demo_faqs() -> list[Faq]:
    return [Faq(**entry) for entry in demo_entries()]


@pytest.fixture(scope="session")
def referral_faqs() -> list[Faq]:
    """The shipped referral entries (category 'referral'), served beside the demo KB."""
    return [Faq(**entry) for entry in referral_entries()]


@pytest.fixture(scope="session")
def engine(model: NluModel, demo_faqs: list[Faq], referral_faqs: list[Faq]) -> NluEngine:
    """The engine as served: demo KB and referrals, thresholds from config.yaml."""
    return NluEngine(model, FaqRetriever(demo_faqs + referral_faqs),
                     thresholds(load_config(env={}).nlu))


@pytest.fixture(scope="session")
def baseline() -> Baseline:
    return Baseline(training_examples())
