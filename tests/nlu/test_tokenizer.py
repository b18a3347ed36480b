"""Our segmentation walk gives exactly jieba's words, and keeps domain terms whole; the
dictionary cached beside the model is jieba's (with our words), rebuilt when unusable."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from nlu.dataset import training_examples
from nlu.normalize import normalize
from nlu.tokenizer import CACHE_GLOB, load_dictionary, tokenizer, tokens

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


def test_the_cached_dictionary_is_jiebas_with_our_words(tmp_path: Path) -> None:
    built = load_dictionary(tmp_path)  # no cache yet: built by jieba, then written
    assert built.FREQ == tokenizer().FREQ and built.total == tokenizer().total
    [cache] = tmp_path.glob(CACHE_GLOB)
    read = load_dictionary(tmp_path)
    assert read.FREQ == built.FREQ and read.total == built.total
    assert [t for t in read.lcut("请问物业费怎么交", HMM=False)] == \
        [t for t in built.lcut("请问物业费怎么交", HMM=False)]
    assert list(tmp_path.glob(CACHE_GLOB)) == [cache]


def test_the_dictionary_is_read_from_the_cache_file(tmp_path: Path) -> None:
    load_dictionary(tmp_path)
    [cache] = tmp_path.glob(CACHE_GLOB)
    cache.write_bytes(pickle.dumps(({"物业": 5, "物": 0}, 5)))
    assert load_dictionary(tmp_path).FREQ == {"物业": 5, "物": 0}


@pytest.mark.parametrize("content", [b"", b"not a pickle", pickle.dumps(["a", "list"])],
                         ids=["empty", "garbage", "wrong-shape"])
def test_an_unreadable_cache_is_rebuilt(tmp_path: Path, content: bytes) -> None:
    load_dictionary(tmp_path)
    [cache] = tmp_path.glob(CACHE_GLOB)
    cache.write_bytes(content)
    assert load_dictionary(tmp_path).FREQ == tokenizer().FREQ
    assert pickle.loads(cache.read_bytes())[1] == tokenizer().total  # written again


def test_a_stale_cache_is_replaced(tmp_path: Path) -> None:
    stale = tmp_path / CACHE_GLOB.replace("*", "0000000000000000")
    stale.write_bytes(pickle.dumps(({"旧": 1}, 1)))
    assert load_dictionary(tmp_path).FREQ == tokenizer().FREQ
    assert not stale.exists() and len(list(tmp_path.glob(CACHE_GLOB))) == 1
