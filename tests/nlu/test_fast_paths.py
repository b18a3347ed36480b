"""The serving shortcuts give exactly what the plain definitions give, bit for bit."""

from __future__ import annotations

import numpy as np

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
