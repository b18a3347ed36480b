"""The serving shortcuts give exactly what the plain definitions give, bit for bit."""

from __future__ import annotations

import numpy as np
import pytest

import nlu.tokenizer as tok
from nlu.classifier import softmax
from nlu.dataset import training_examples
from nlu.features import text_features
from nlu.model import NluModel
from nlu.normalize import normalize
from nlu.tokenizer import tokens

ODD = ["", " ", "3栋2单元502 漏水!!", "a1b2 c3", "２０２号 ①②", "物业费+公摊%"]


def test_transform_text_equals_named_features(model: NluModel) -> None:
    vectorizer = model.vectorizer
    for text in [e.text for e in training_examples()] + ODD:
        norm = normalize(text)
        words = tokens(norm)
        idx, values = vectorizer.transform_text(norm, words)
        want_idx, want_values = vectorizer.transform_one(text_features(norm, words))
        assert np.array_equal(idx, want_idx) and np.array_equal(values, want_values), text


def test_absent_fragments_are_remembered_only_up_to_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(tok, "ABSENT_LIMIT", 3)
    jb = tok.tokenizer()
    table = tok.WordTable(jb.FREQ, jb.total)
    for text in ["物业费怎么交", "楼上漏水到我家", "电梯坏了没人修", "物业费怎么交"]:
        assert tok._cut_block(text, table) == jb.lcut(text, HMM=False)
    assert sum(v is tok.ABSENT for v in table.cache.values()) == 3


def test_one_message_softmax_is_the_general_one() -> None:
    rng = np.random.default_rng(7)
    for size in (13, 41):
        for scores in rng.normal(scale=8.0, size=(200, size)):
            shifted = scores - scores.max(axis=-1, keepdims=True)
            exp = np.exp(shifted)
            assert np.array_equal(softmax(scores), exp / exp.sum(axis=-1, keepdims=True))
