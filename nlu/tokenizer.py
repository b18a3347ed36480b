"""jieba with the domain user dictionary, initialised once per process on first use."""

from __future__ import annotations

import logging
import threading

import jieba

from nlu.lexicon import lexicon

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None


def _build() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in lexicon().words:
        tokenizer.add_word(word, freq=200000)
    return tokenizer


def tokenizer() -> jieba.Tokenizer:
    """The shared tokenizer (jieba's dictionary load costs ~1 s, so only once)."""
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                _tokenizer = _build()
    return _tokenizer


def tokens(normalized: str) -> list[str]:
    """Words of an already normalized text, without spaces."""
    return [t for t in tokenizer().lcut(normalized, HMM=False) if not t.isspace()]
