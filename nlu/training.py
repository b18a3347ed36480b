"""Train-and-save, and the start-up rule: use the newest artifact, train one if none."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from knowledge_base.repository import Faq
from nlu.dataset import training_examples
from nlu.model import is_current, newest_artifact, train


def train_and_save(model_dir: Path, entries: Sequence[Faq] | None = None) -> Path:
    """Train on nlu/data + the knowledge base's entries (the live ones when given, else
    the demo and referral files) and write a new versioned artifact."""
    return train(training_examples(entries)).save(model_dir)


def ensure_model(model_dir: Path, entries: Sequence[Faq] | None = None) -> Path:
    """The newest artifact, training one first when there is none this code can load."""
    newest = newest_artifact(model_dir)
    if newest is not None and is_current(newest):
        return newest
    return train_and_save(model_dir, entries)
