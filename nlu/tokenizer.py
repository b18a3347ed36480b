"""jieba segmentation with the domain user dictionary, initialised once per process.

`tokens` walks jieba's own dictionary with jieba's own algorithm (word DAG, best
route by unigram log-probability, no HMM), written as one plain loop with the
log-probabilities kept per word: the same words as `Tokenizer.lcut(text, HMM=False)`
(a test checks it) in about a quarter of the time, which the throughput goal needs.

jieba's own dictionary load (a marshal cache in /tmp, or a 2 s parse of dict.txt without
one) is most of a server's start-up; `preload` reads a pickle of the finished dictionary
(jieba's words plus ours) kept beside the NLU model instead, in about a third of the time.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import re
import string
import tempfile
import threading
from math import log
from pathlib import Path

import jieba

from nlu.lexicon import lexicon
from nlu.speedups import compiled

logger = logging.getLogger(__name__)
_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
USER_WORD_FREQ = 200000
CACHE_GLOB = "jieba-dictionary-*.pickle"
_BLOCK = re.compile("([\u4E00-\u9FD5a-zA-Z0-9+#&\\._%\\-]+)")
_ALNUM = frozenset(string.ascii_letters + string.digits)


def _build() -> jieba.Tokenizer:
    jieba.setLogLevel(logging.WARNING)
    tokenizer = jieba.Tokenizer()
    tokenizer.initialize()
    for word in lexicon().words:
        tokenizer.add_word(word, freq=USER_WORD_FREQ)
    return tokenizer


def _dictionary_key() -> str:
    """Changes with jieba's version and dictionary file and with our word list."""
    source = Path(jieba.__file__).with_name(jieba.DEFAULT_DICT_NAME).stat()
    digest = hashlib.sha256(f"{jieba.__version__}|{source.st_size}|{source.st_mtime_ns}|"
                            f"{USER_WORD_FREQ}".encode())
    for word in lexicon().words:
        digest.update(word.encode("utf-8") + b"\n")
    return digest.hexdigest()[:16]


def load_dictionary(cache_dir: Path) -> jieba.Tokenizer:
    """A tokenizer like `_build`'s, its dictionary read from `cache_dir` (written there
    first when missing, stale or unreadable; a directory we cannot write only costs time)."""
    path = cache_dir / CACHE_GLOB.replace("*", _dictionary_key())
    try:
        freq, total = pickle.loads(path.read_bytes())  # noqa: S301 - our own file, as the model
        if isinstance(freq, dict) and isinstance(total, int):
            tokenizer = jieba.Tokenizer()
            tokenizer.FREQ, tokenizer.total, tokenizer.initialized = freq, total, True
            return tokenizer
        logger.warning("%s does not hold a dictionary; rebuilding it", path)
    except FileNotFoundError:
        pass
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError):
        logger.warning("%s is unreadable; rebuilding it", path, exc_info=True)
    tokenizer = _build()
    _write_dictionary(path, tokenizer)
    return tokenizer


def _write_dictionary(path: Path, tokenizer: jieba.Tokenizer) -> None:
    """Atomically (readers never see half a file); older dictionaries are removed."""
    partial = ""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, partial = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            pickle.dump((tokenizer.FREQ, tokenizer.total), out, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(partial, path)
        for old in path.parent.glob(CACHE_GLOB):
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        logger.warning("could not write the dictionary cache %s", path, exc_info=True)
        if partial:
            Path(partial).unlink(missing_ok=True)


def preload(cache_dir: Path) -> jieba.Tokenizer:
    """Make the shared tokenizer from the dictionary cached in `cache_dir` (servers call
    this at start with the model directory); a no-op once there is one."""
    global _tokenizer
    with _lock:
        if _tokenizer is None:
            _tokenizer = load_dictionary(cache_dir)
    return _tokenizer


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
    table = word_table()
    words: list[str] = []
    # re.split with one capturing group: odd pieces are blocks, even ones lie between.
    for i, piece in enumerate(_BLOCK.split(normalized)):
        if i % 2:
            words += cut(piece, table)
        elif piece:
            words += [ch for ch in piece if not ch.isspace()]
    return words


class WordTable:
    """jieba's FREQ as log-probabilities, each computed on first use.

    `log(freq) - log(total)` is the float jieba recomputes on every call; keeping
    it per dictionary word changes no route. Fragments FREQ lacks (where every walk
    stops) are remembered too, up to ABSENT_LIMIT, so arbitrary text cannot grow
    the table past jieba's dictionary plus that bound. Valid because the dictionary
    is complete once `_build` returns: nothing adds words (or changes the total) later.
    """

    def __init__(self, freq: dict[str, int], total: int) -> None:
        self._freq = freq
        self.log_total = log(total)
        self.unknown = log(1) - self.log_total  # jieba's score of a character not in FREQ
        # word → log-probability; prefix of a word → None; not in FREQ → ABSENT
        self.cache: dict[str, float | None | object] = {}
        self._absent = 0
        # The compiled walk keeps the same entries in its own compact table (same bound).
        self.compiled_cache = (
            compiled.StrTable(absent_limit=ABSENT_LIMIT) if compiled is not None else None
        )

    def lookup(self, fragment: str) -> float | None | object:
        """FREQ's answer for a fragment: log-probability, None for a prefix, or ABSENT."""
        count = self._freq.get(fragment)
        if count is None:
            return ABSENT
        return log(count) - self.log_total if count else None

    def fill(self, fragment: str) -> float | None | object:
        """`lookup`, remembered in `cache`."""
        logp = self.lookup(fragment)
        if logp is not ABSENT:
            self.cache[fragment] = logp
        elif self._absent < ABSENT_LIMIT:
            self._absent += 1  # a race may overcount by a few: harmless
            self.cache[fragment] = ABSENT
        return logp


ABSENT = object()
ABSENT_LIMIT = 200_000
_MISSING = object()
_word_table: WordTable | None = None


def word_table() -> WordTable:
    """The shared table over the shared tokenizer's dictionary."""
    global _word_table
    if _word_table is None:
        jb = tokenizer()
        with _lock:
            if _word_table is None:
                _word_table = WordTable(jb.FREQ, jb.total)
    return _word_table


def cut(block: str, table: WordTable) -> list[str]:
    """Words of one block: the compiled `cut_block` where built, else `_cut_block`."""
    if table.compiled_cache is not None:
        return compiled.cut_block(block, table.compiled_cache, table.lookup, ABSENT,
                                  table.unknown)
    return _cut_block(block, table)


def _cut_block(text: str, table: WordTable) -> list[str]:
    """jieba's __cut_DAG_NO_HMM for one block of Han characters, letters and digits.

    The word DAG and the best route (right to left) in one pass: for each start,
    the words beginning there are walked while FREQ knows the fragment.
    """
    n = len(text)
    cache, fill = table.cache, table.fill
    unknown = table.unknown
    best = [0.0] * (n + 1)
    route = [0] * (n + 1)
    for start in range(n - 1, -1, -1):
        top_value: float | None = None
        top_end = start
        for end in range(start, n):
            fragment = text[start:end + 1]
            logp = cache.get(fragment, _MISSING)
            if logp is _MISSING:
                logp = fill(fragment)
            if logp is ABSENT:
                break
            if logp is not None:
                value = logp + best[end + 1]
                # Ends rise, so >= keeps the longest of equal routes, as jieba's max does.
                if top_value is None or value >= top_value:
                    top_value, top_end = value, end
        if top_value is None:
            top_value = unknown + best[start + 1]
        best[start], route[start] = top_value or 0.0, top_end
    return _glue(text, route)


def _glue(text: str, route: list[int]) -> list[str]:
    """Follow the route; jieba glues runs of single letters/digits together."""
    n = len(text)
    words: list[str] = []
    buffer, i = "", 0
    while i < n:
        j = route[i] + 1
        word = text[i:j]
        if len(word) == 1 and word in _ALNUM:
            buffer += word
        else:
            if buffer:
                words.append(buffer)
                buffer = ""
            words.append(word)
        i = j
    if buffer:
        words.append(buffer)
    return words
