"""Our segmentation walk gives exactly jieba's words, and keeps domain terms whole."""

from __future__ import annotations

import pytest

from nlu.dataset import training_examples
from nlu.normalize import normalize
from nlu.tokenizer import tokenizer, tokens

ODD = ["", " ", "abc def", "3栋2单元502 漏水!!", "wifi密码多少", "a1b2 c3", "物业费+公摊%", "……",
       "ok 好的"]


def _jieba(text: str) -> list[str]:
    return [t for t in tokenizer().lcut(text, HMM=False) if not t.isspace()]


def test_same_words_as_jieba_on_the_whole_training_set() -> None:
    texts = [normalize(e.text) for e in training_examples()]
    assert [t for t in texts if tokens(t) != _jieba(t)] == []


@pytest.mark.parametrize("text", ODD)
def test_same_words_as_jieba_on_odd_input(text: str) -> None:
    assert tokens(text) == _jieba(text)


@pytest.mark.parametrize("word", ["物业费", "门禁卡", "货梯", "化粪池", "公摊", "充电桩"])
def test_domain_words_stay_whole(word: str) -> None:
    assert word in tokens(normalize(f"请问{word}怎么弄"))
