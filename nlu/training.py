"""Train-and-save, and the start-up rule: use the newest artifact, train one if none."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from knowledge_base.repository import Faq
from nlu import calibration
from nlu.calibration import Evidence
from nlu.dataset import Example, shipped_entries, training_examples
from nlu.engine import NluEngine, Thresholds
from nlu.model import NluModel, is_current, newest_artifact, train
from nlu.retrieval import FaqRetriever


def train_calibrated(examples: Sequence[Example], entries: Sequence[Faq] | None = None) -> NluModel:
    """The model, plus its confidence calibrator fitted on held-out folds of the examples
    (whole training files held out together: shapes the fold's model never saw)."""
    model = train(examples)
    temperatures = (model.intent.temperature, model.faq.temperature)
    retriever = FaqRetriever(shipped_entries() if entries is None else entries)

    def fit_fold(indices: list[int]) -> Callable[[int], tuple[Evidence, bool] | None]:
        fold = train([examples[i] for i in indices], temperatures)
        engine = NluEngine(fold, retriever, Thresholds())

        def judge(index: int) -> tuple[Evidence, bool] | None:
            example = examples[index]
            decision, evidence = engine.decide(example.text)
            if evidence is None:  # nothing left after normalization (emoji only)
                return None
            right = decision.intent == example.intent and (
                example.intent != "faq" or decision.faq_id == example.faq_id)
            return evidence, right

        return judge

    from threadpoolctl import threadpool_limits  # training only, like sklearn

    with threadpool_limits(1):
        samples = calibration.held_out_samples([e.source for e in examples], fit_fold)
    model.calibrator = calibration.fit(samples, model.intent.labels)
    model.meta["calibration_samples"] = len(samples)
    return model


def train_and_save(model_dir: Path, entries: Sequence[Faq] | None = None) -> Path:
    """Train on nlu/data + the knowledge base's entries (the live ones when given, else
    the demo and referral files) and write a new versioned artifact."""
    return train_calibrated(training_examples(entries), entries).save(model_dir)


def ensure_model(model_dir: Path, entries: Sequence[Faq] | None = None) -> Path:
    """The newest artifact, training one first when there is none this code can load."""
    newest = newest_artifact(model_dir)
    if newest is not None and is_current(newest):
        return newest
    return train_and_save(model_dir, entries)
