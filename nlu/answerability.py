"""Does the best FAQ entry answer what the message asks, or only share its topic words?

"健身房有教练吗" scores high on clubhouse_hours (健身房) although the entry says
nothing about coaches. The check looks at the ask: the content words after the last
word the entry knows ("有 教练 吗"). A word is foreign to an entry when it is neither
a generic word (function words, time, people, words most entries use) nor found in
the entry's text (question, similar questions, keywords, answer), as a word or
character by character (清运 in 清运费, 地库 in 地下车库).

Foreign words alone would refuse many real paraphrases (星期天, 冷气, 拴绳), so an
entry is refused only when the ask is mostly foreign (two or more foreign words) or
when one foreign word comes with a doubtful FAQ classifier (its "no FAQ" class, which
learnt from the uncovered examples of the training data). The classifier is trusted
more on a word it was trained on (捡 for 狗屎要捡吗) than on one it never saw (公积金).
The numbers were chosen on out-of-fold predictions over the training data.

Vocabularies are computed once per index (the engine is rebuilt on every KB change);
a check is a few set lookups, and the softmax only when one foreign word is found.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import numpy as np

from knowledge_base.repository import Faq
from nlu.model import NO_FAQ, NluModel
from nlu.normalize import normalize
from nlu.tokenizer import tokens

# Probability of the FAQ classifier's "no FAQ" class from which one foreign word refuses:
# a word the model never saw, and one it was trained on.
UNSEEN_NONE_FLOOR = 0.25
SEEN_NONE_FLOOR = 0.6
# Foreign words in the ask that refuse whatever the classifier says.
FOREIGN_LIMIT = 2
# A word used by this many entries is domain-generic (怎么, 多少, 办理), not an ask.
GENERIC_ENTRIES = 4

# Words that carry no ask of their own: pronouns, question words, particles, modal and
# light verbs, fillers, time and people. Written by hand, never from an evaluation set.
GENERIC_WORDS = frozenset("""
我 我们 你 你们 他 她 它 他们 咱 咱们 俺 自己 别人 其他人 大家 人 有人 家 我家 家里 家里人 本人 谁
这 那 这个 那个 这边 那边 这里 那里 哪 哪个 哪些 哪里 哪儿 什么 啥 多少 几 几个 几种 怎么 怎样
怎么样 为什么 什么样 怎么弄 怎么搞 怎么办
的 了 吗 呢 吧 啊 呀 哦 嘛 么 着 过 得 地 哈 呗 啦 嘞 咯
能 可以 会 要 需要 想 想要 不想 应该 必须 才能 不能 不会 能不能 可不可以 是不是 有没有 会不会 要不要
还 也 都 就 才 再 又 还是 或者 一般 一下 一起 好像 具体 比较 大概 一直 已经 马上 只 只能 到底 真的
你好 您好 请问 问 问问 问下 问一下 就是 的话 麻烦 谢谢 这样 那样 一些 有点 一点
今天 明天 昨天 后天 最近 现在 目前 下周 下个月 上个月 这周 本周 这个月 今年 明年 去年
周一 周二 周三 周四 周五 周六 周日 周末 星期一 星期二 星期三 星期四 星期五 星期六 星期天 星期日
礼拜天 礼拜六 早上 上午 中午 下午 晚上 凌晨 半夜 夜里 白天 那天 当天 每天 期间 之前 以后 之后
以前 前 后 时候 时间 一会 半天 几天 国庆 春节 元旦 过年 放假 节假日 春天 夏天 秋天 冬天 暑假 寒假
爸 妈 爸妈 父母 老人 孩子 小孩 家人 朋友 亲戚 客人 阿姨 保姆 邻居 老婆 老公 工人
办 弄 搞 做 去 来 找 找到 看 看到 拿 拿到 用 给 让 带 说 知道 到 在 是 有 没有 没 出 过去
上 下 里 个 次 张 天 年 月 号 点 分钟 小时 一 两 一个
不 被 把 将 第 东西 地方 等 别的 其他 其它 大 小 多 少 好 一样 所有 每 各 各种 不到 得到
一趟 情况 事 事情 问题 方面 方式 办法
""".split())
# Single characters that leave a word's meaning to its other characters (去取 = 取).
_LIGHT_CHARS = frozenset(w for w in GENERIC_WORDS if len(w) == 1)


class Answerability:
    """Per-entry vocabularies of an index, and the check made on its best entry."""

    def __init__(self, entries: Sequence[Faq], model: NluModel) -> None:
        self._words: dict[str, frozenset[str]] = {}
        self._chars: dict[str, frozenset[str]] = {}
        used: Counter[str] = Counter()
        for entry in entries:
            texts = [normalize(t) for t in _texts(entry)]
            words = frozenset(w for text in texts for w in tokens(text))
            self._words[entry.id] = words
            self._chars[entry.id] = frozenset("".join(texts).replace(" ", "")) | _LIGHT_CHARS
            used.update(words)
        self._generic = GENERIC_WORDS | {w for w, n in used.items() if n >= GENERIC_ENTRIES}
        self._faq = model.faq
        self._none = self._faq.labels.index(NO_FAQ) if NO_FAQ in self._faq.labels else -1
        self._seen = model.vectorizer.vocabulary  # word features are named "w:<word>"

    def answers(self, faq_id: str, words: list[str], raw: np.ndarray) -> bool:
        """False when the message asks what the entry does not say.

        `raw` holds the FAQ classifier's linear scores of the message.
        """
        foreign = self.foreign_ask(faq_id, words)
        if not foreign:
            return True
        if len(foreign) >= FOREIGN_LIMIT:
            return False
        if self._none < 0:
            return True
        floor = SEEN_NONE_FLOOR if f"w:{foreign[0]}" in self._seen else UNSEEN_NONE_FLOOR
        return float(self._faq.calibrated(raw)[self._none]) < floor

    def foreign_ask(self, faq_id: str, words: list[str]) -> list[str]:
        """Content words after the last one the entry knows (walked from the end).

        The entry knows a word it uses, or all of whose characters it uses (light
        characters aside).
        """
        known = self._words.get(faq_id)
        if known is None:
            return []
        chars, generic = self._chars[faq_id], self._generic
        foreign: list[str] = []
        for word in reversed(words):
            if word in generic or word.isdigit() or (word.isascii() and len(word) < 2):
                continue
            if word in known or chars.issuperset(word):
                break
            foreign.append(word)
        foreign.reverse()
        return foreign


def _texts(entry: Faq) -> list[str]:
    return [entry.question, *entry.similar_questions, *entry.keywords, entry.answer]
