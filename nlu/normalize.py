"""Text normalization: one spelling for the many ways residents write the same thing.

`fold` is length-preserving (width, traditional → simplified, case), so entity
offsets found on its output are offsets in the original text. `normalize` goes
further for the classifier and the retriever: typos, dialect, Chinese numerals,
emoji and punctuation.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

from nlu.lexicon import lexicon

_CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "幺": 1, "二": 2, "两": 2, "三": 3, "四": 4,
              "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_CN_UNITS = {"十": 10, "百": 100, "千": 1000}
CN_NUMERAL = "零〇一幺二两三四五六七八九十百千"
# Units after which a Chinese numeral is surely a number (一下 / 一直 are not).
_NUMBER_UNITS = "栋幢座号楼单元层室点月日天个元块年岁分台辆张次户期周"
_NUMERAL_RUN = re.compile(f"[{CN_NUMERAL}]+")
_FINAL_PARTICLE = re.compile(r"(?<![怎什那多这要干])[么嘛伐](?=$|[\s,，.。?？!！~～])")
_NOISE = re.compile(r"[^\w\u4e00-\u9fff]+")
# The same, keeping question marks: a clause asked with "?" and no question word.
_NOISE_KEEP_ASK = re.compile(r"[^\w\u4e00-\u9fff?]+")
_ASK_RUN = re.compile(r"\s*\?[\s?]*")


@cache
def _fold_table() -> dict[int, str]:
    """Full-width → half-width plus single-character traditional → simplified."""
    import opencc

    table: dict[int, str] = {}
    path = Path(opencc.__file__).parent / "dictionary" / "TSCharacters.txt"
    for line in path.read_text(encoding="utf-8").splitlines():
        source, _, targets = line.partition("\t")
        target = targets.split(" ")[0] if targets else ""
        if len(source) == 1 and len(target) == 1 and source != target:
            table[ord(source)] = target
    for code in range(0xFF01, 0xFF5F):
        table[code] = chr(code - 0xFEE0)
    table[0x3000] = " "
    return table


def fold(text: str) -> str:
    """Length-preserving fold: half width, simplified characters, lower case."""
    folded = text.translate(_fold_table()).lower()
    return folded if len(folded) == len(text) else text.translate(_fold_table())


def cn_to_int(numeral: str) -> int | None:
    """十二 → 12, 一千一百零一 → 1101, 一一零一 → 1101; None when not a numeral."""
    if not numeral or any(ch not in _CN_DIGITS and ch not in _CN_UNITS for ch in numeral):
        return None
    if not any(ch in _CN_UNITS for ch in numeral):
        return int("".join(str(_CN_DIGITS[ch]) for ch in numeral))
    total, current = 0, 0
    for ch in numeral:
        if ch in _CN_DIGITS:
            current = _CN_DIGITS[ch]
        else:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
    return total + current


def _numerals(text: str) -> str:
    def convert(match: re.Match[str]) -> str:
        run = match.group(0)
        after = text[match.end(): match.end() + 1]
        has_unit = any(ch in _CN_UNITS for ch in run)
        if len(run) >= 3 or (has_unit and len(run) >= 2) or (after and after in _NUMBER_UNITS):
            if run == "一" and after == "点":
                return run  # 一点 is usually "a little"
            value = cn_to_int(run)
            return str(value) if value is not None else run
        return run

    return _NUMERAL_RUN.sub(convert, text)


@cache
def _replacer() -> tuple[re.Pattern[str], dict[str, str]]:
    mapping = lexicon().rewrites()
    keys = sorted(mapping, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, keys))), mapping


def normalize(text: str) -> str:
    """The classifier's and retriever's view of a message."""
    return normalize_folded(fold(text))


def normalize_folded(folded: str) -> str:
    """`normalize` from `fold(text)`, which entity extraction needs as well (fold once)."""
    return normalize_parts(folded)[0]


def normalize_parts(folded: str) -> tuple[str, str]:
    """The normalized text and its clause view, from `fold(text)`.

    The view is the normalized text with a "?" after each clause the resident asked
    with a question mark (the same text when there is none): the models drop the
    marks, the check of what a message asks (nlu.answerability) needs them.
    """
    text = unicodedata.normalize("NFKC", folded)
    text = _FINAL_PARTICLE.sub("吗", text)
    pattern, mapping = _replacer()
    text = pattern.sub(lambda m: mapping[m.group(0)], text)
    text = _numerals(text)
    normalized = " ".join(_NOISE.sub(" ", text).split())
    if "?" not in text:  # fold made ？ a ?
        return normalized, normalized
    return normalized, " ".join(_ASK_RUN.sub("? ", _NOISE_KEEP_ASK.sub(" ", text)).split())
