"""The serving shortcuts, compiled loops included, give what the plain definitions give."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

import nlu.engine as engine_module
import nlu.features as features_module
import nlu.retrieval as retrieval_module
import nlu.tokenizer as tok
from knowledge_base.repository import Faq
from nlu.classifier import softmax
from nlu.dataset import training_examples
from nlu.engine import NluEngine
from nlu.features import Vectorizer, text_features
from nlu.model import NluModel
from nlu.normalize import normalize
from nlu.retrieval import FaqRetriever
from nlu.speedups import compiled
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


# --- the compiled loops (nlu/_speedups.c) against the pure-Python definitions --------

REPO = Path(__file__).resolve().parents[2]
SEGMENTS = ["物业费怎么交", "3栋2单元502漏水", "wifi密码多少", "a1b2c3", "物业费+公摊%",
            "停车场B2出口", "x" * 300, "电梯" * 200, "𠀀𠀁物业"]


@pytest.fixture()
def built() -> ModuleType:
    """The compiled module; CI must build it (skipped elsewhere when no compiler was found)."""
    if compiled is None:
        if os.environ.get("CI"):
            pytest.fail("nlu._speedups was not built: is a C compiler installed?")
        pytest.skip("nlu._speedups not built (no C compiler); the pure-Python paths serve")
    return compiled


def test_str_table_keeps_numbers_prefixes_and_unknowns_apart(built: ModuleType) -> None:
    table = built.StrTable()
    table.set("物业", None)
    table.set("物业费", -7.5)
    table.set("长" * 100, 3)
    table.set("𠀀", 1)
    assert table.get("物业费") == -7.5 and table.get("物业") is None
    assert table.get("物业管理", "unknown") == "unknown" and table.get("", 0) == 0
    assert table.get("长" * 100) == 3 and table.get("长" * 99, "no") == "no"
    assert table.get("𠀀") == 1
    table.set("物业费", -1.0)  # replacing a key does not add one
    assert table.get("物业费") == -1.0 and len(table) == 4


def test_compiled_loops_refuse_wrong_arguments_instead_of_crashing(built: ModuleType) -> None:
    table, weights = built.StrTable(), np.zeros((3, 2))
    with pytest.raises(TypeError):
        built.cut_block("物业", {}, lambda f: None, object(), -1.0)
    with pytest.raises(TypeError):
        built.transform(["物业"], "^物业$", {}, table, table, [1.0])
    with pytest.raises(TypeError):
        built.faq_best({"物业"}, set(), ())
    columns, values = np.array([5], dtype=np.int64), np.array([1.0])
    with pytest.raises(IndexError):  # a column past the weights
        built.linear_softmax(columns, values, weights, np.zeros(2), 1, 1.0, 1.0)
    with pytest.raises(ValueError):  # columns and values of different lengths
        built.linear_softmax(columns, np.zeros(2), weights, np.zeros(2), 1, 1.0, 1.0)
    with pytest.raises(TypeError):  # float32 weights
        built.linear_softmax(columns, values, weights.astype(np.float32), np.zeros(2), 1, 1.0,
                             1.0)


def test_str_table_grows_without_losing_keys(built: ModuleType) -> None:
    table = built.StrTable()
    keys = [f"词{i}" for i in range(50_000)]
    for i, key in enumerate(keys):
        table.set(key, i)
    assert len(table) == len(keys)
    assert all(table.get(key) == i for i, key in enumerate(keys))


def test_compiled_walk_gives_jiebas_words_and_bounds_what_it_remembers(
    built: ModuleType, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tok, "ABSENT_LIMIT", 3)
    jb = tok.tokenizer()
    table = tok.WordTable(jb.FREQ, jb.total)
    texts = SEGMENTS + [normalize(e.text) for e in training_examples()[:300]]
    for text in texts:
        for block in tok._BLOCK.findall(text):
            assert tok.cut(block, table) == tok._cut_block(block, tok.WordTable(jb.FREQ, jb.total))
    assert table.compiled_cache.absent == 3


def test_compiled_transform_equals_the_dict_path(
    built: ModuleType, model: NluModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    served = model.vectorizer
    monkeypatch.setattr(features_module, "compiled", None)
    plain = Vectorizer(served.vocabulary, served.idf)
    for text in [e.text for e in training_examples()] + ODD + SEGMENTS:
        norm = normalize(text)
        words = tokens(norm)
        got, want = served.transform_text(norm, words), plain.transform_text(norm, words)
        assert np.array_equal(got[0], want[0]) and np.array_equal(got[1], want[1]), text


def test_compiled_retrieval_and_probabilities_equal_the_numpy_path(
    built: ModuleType, engine: NluEngine, demo_faqs: list[Faq],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    served = engine.retriever
    monkeypatch.setattr(retrieval_module, "compiled", None)
    plain_retriever = FaqRetriever(demo_faqs)
    monkeypatch.setattr(engine_module, "compiled", None)
    plain = NluEngine(engine.model, plain_retriever, engine.thresholds)
    for text in [e.text for e in training_examples()] + ODD:
        features = engine.model.featurize(text)
        got = served.scores(features.normalized, features.words)
        assert np.allclose(got, plain_retriever.scores(features.normalized, features.words),
                           rtol=1e-12, atol=1e-15), text
        got_probs = engine._probabilities(features)
        want_probs = plain._probabilities(features)
        for a, b in zip(got_probs, want_probs, strict=True):
            assert np.allclose(a, b, rtol=1e-12, atol=1e-15), text


_DECIDE = """
import json, sys
from core.config import load_config
from knowledge_base.demo import demo_entries
from knowledge_base.repository import Faq
from nlu.engine import NluEngine
from nlu.model import load, newest_artifact
from nlu.retrieval import FaqRetriever
from nlu.speedups import compiled
from pathlib import Path
from wuye.understanding import thresholds
engine = NluEngine(load(newest_artifact(Path(sys.argv[1]))),
                   FaqRetriever([Faq(**e) for e in demo_entries()]),
                   thresholds(load_config(env={}).nlu))
print(compiled is not None)
for line in sys.stdin:
    print(json.dumps(engine.understand(line.rstrip("\\n")).to_dict(), ensure_ascii=False))
"""


def test_compiled_and_pure_python_engines_decide_alike(
    built: ModuleType, trained_model_dir: Path
) -> None:
    texts = [e.text for e in training_examples()][::3] + ODD + SEGMENTS
    runs = {}
    for pure in ("0", "1"):
        env = {**os.environ, "NLU_PURE_PYTHON": pure}
        done = subprocess.run([sys.executable, "-c", _DECIDE, str(trained_model_dir)],
                              input="\n".join(texts) + "\n", capture_output=True, text=True,
                              env=env, cwd=REPO, check=True)
        runs[pure] = done.stdout.splitlines()
    assert runs["0"][0] == "True" and runs["1"][0] == "False"
    assert len(runs["0"]) == len(texts) + 1
    assert runs["0"][1:] == runs["1"][1:]
