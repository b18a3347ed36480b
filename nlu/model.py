"""The trained NLU model: shared vectorizer, intent and FAQ classifiers, short forms.

Saved as one versioned pickle per training run (`nlu-<UTC time>.pkl`); the newest
file in the model directory is the one in service.
"""

from __future__ import annotations

import pickle
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from nlu.classifier import LinearClassifier
from nlu.dataset import Example
from nlu.features import Vectorizer, text_features
from nlu.normalize import fold, normalize, normalize_parts
from nlu.tokenizer import tokens

NO_FAQ = "__none__"
# Bumped whenever the pickled layout changes; an older artifact is retrained, not loaded.
ARTIFACT_FORMAT = 4
ARTIFACT_GLOB = "nlu-*.pkl"
SHORT_FORM_INTENTS = ("greet", "goodbye", "human")
SHORT_FORM_MAX_CHARS = 8
# Features seen once are mostly noise and triple the fitting time.
MIN_DF = 2


@dataclass
class Features:
    """One message as the models see it."""

    normalized: str
    words: list[str]
    idx: np.ndarray
    values: np.ndarray
    folded: str = ""  # fold(text): what entity patterns run on
    view: str = ""  # normalized with the resident's question marks (see normalize_parts)


@dataclass
class NluModel:
    version: str
    vectorizer: Vectorizer
    intent: LinearClassifier
    faq: LinearClassifier
    short_forms: dict[str, str] = field(default_factory=dict)
    meta: dict[str, object] = field(default_factory=dict)
    # FAQ id → the words of its training examples: the paraphrases residents use
    # (练琴 for 噪音, 拴绳 for 牵绳) that an entry's own text may lack.
    faq_words: dict[str, frozenset[str]] = field(default_factory=dict)

    def featurize(self, text: str) -> Features:
        folded = fold(text)
        normalized, view = normalize_parts(folded)
        words = tokens(normalized)
        idx, values = self.vectorizer.transform_text(normalized, words)
        return Features(normalized, words, idx, values, folded, view)

    def save(self, directory: Path) -> Path:
        """Write atomically, so a server polling the directory never reads half a file."""
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"nlu-{self.version}.pkl"
        partial = path.with_suffix(".tmp")
        partial.write_bytes(pickle.dumps(self, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(path)
        return path


def train(examples: Sequence[Example]) -> NluModel:
    """Fit everything from the examples; takes a few seconds on two cores."""
    # BLAS threads only fight each other (and the server) on problems this small:
    # one thread fits ~10x faster on a busy two-core machine.
    from threadpoolctl import threadpool_limits  # training only, like sklearn

    with threadpool_limits(1):
        return _train(examples)


def _train(examples: Sequence[Example]) -> NluModel:
    started = time.perf_counter()
    normalized = [normalize(e.text) for e in examples]
    words = [tokens(n) for n in normalized]
    feats = [text_features(n, w) for n, w in zip(normalized, words, strict=True)]
    vectorizer = Vectorizer.fit(feats, min_df=MIN_DF)
    matrix = vectorizer.transform(feats)
    intent = LinearClassifier.train(matrix, [e.intent for e in examples])
    faq_rows = [i for i, e in enumerate(examples) if e.intent == "faq"]
    faq = LinearClassifier.train(
        matrix[faq_rows], [examples[i].faq_id or NO_FAQ for i in faq_rows]
    )
    short_forms = {
        n.replace(" ", ""): e.intent
        for n, e in zip(normalized, examples, strict=True)
        if e.intent in SHORT_FORM_INTENTS and len(n) <= SHORT_FORM_MAX_CHARS
    }
    faq_words: dict[str, set[str]] = {}
    for example, example_words in zip(examples, words, strict=True):
        if example.intent == "faq" and example.faq_id:
            faq_words.setdefault(example.faq_id, set()).update(example_words)
    version = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    meta = {
        "format": ARTIFACT_FORMAT,
        "examples": len(examples),
        "features": len(vectorizer.vocabulary),
        "seconds": round(time.perf_counter() - started, 2),
    }
    return NluModel(version, vectorizer, intent, faq, short_forms, meta,
                    {faq_id: frozenset(w) for faq_id, w in faq_words.items()})


def newest_artifact(directory: Path) -> Path | None:
    """The most recent artifact (names sort by training time)."""
    found = sorted(directory.glob(ARTIFACT_GLOB)) if directory.is_dir() else []
    return found[-1] if found else None


def load(path: Path) -> NluModel:
    # Artifacts are written only by our own `train`, into our own var/ directory.
    model = pickle.loads(path.read_bytes())  # noqa: S301
    if not isinstance(model, NluModel) or model.meta.get("format") != ARTIFACT_FORMAT:
        raise ArtifactError(f"{path}: not an NLU model artifact of format {ARTIFACT_FORMAT}")
    return model


def is_current(path: Path) -> bool:
    """True when the artifact loads with this code (format and classes match)."""
    try:
        load(path)
    except (ArtifactError, AttributeError, ModuleNotFoundError, pickle.UnpicklingError, EOFError):
        return False
    return True


class ArtifactError(ValueError):
    """An artifact this code cannot use (another format, or not ours)."""
