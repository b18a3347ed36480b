"""Does the best FAQ entry answer what the message asks, or only share its topic words?

"健身房有教练吗" scores high on clubhouse_hours (健身房) although the entry says
nothing about coaches. The check looks at the ask: the content words after the last
word the entry knows ("有 教练 吗"). A word is foreign to an entry when it is neither
a generic word (function words, degree and time words, people, words most entries
use) nor found in the entry's text (question, similar questions, keywords, answer),
as a word or character by character (清运 in 清运费, 地库 in 地下车库).

The ask is looked for in the clause that asks. Residents add their situation or a
remark around the question ("物业办公室在哪栋楼啊 刚搬来找不到", "想装防盗窗 不锈钢那种
可以吗"): the message is split where the resident put a space, punctuation or a final
particle (吗 呢 啊 …), and only clauses with a question marker (nlu.rules.asks) are
judged; with several, the one the entry answers best. A message without any marker
is judged whole.

Foreign words alone would refuse many real paraphrases (星期天, 冷气, 拴绳), so an
entry is refused only when the ask is mostly foreign (two or more foreign words) or
when one foreign word comes with a doubtful FAQ classifier (its "no FAQ" class, which
learnt from the uncovered examples of the training data). The classifier is trusted
more on a word it was trained on (捡 for 狗屎要捡吗) than on one it never saw (公积金).
Questions about another community or company (隔壁小区的物业电话, 外部公司) are never
answered from our knowledge base.

Vocabularies are computed once per index (the engine is rebuilt on every KB change);
a check is a few set lookups, and the softmax only when one foreign word is found.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence
from itertools import accumulate

from knowledge_base.repository import Faq
from nlu.model import NO_FAQ, NluModel
from nlu.normalize import fold, normalize
from nlu.rules import asks, requests
from nlu.tokenizer import tokenizer, tokens

# Probability of the FAQ classifier's "no FAQ" class from which one foreign word refuses:
# a word the model never saw, and one it was trained on (or a foreign word before the
# known ones). Re-chosen when the uncovered examples grew: the class is stronger now.
UNSEEN_NONE_FLOOR = 0.45
SEEN_NONE_FLOOR = 0.5
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
一趟 情况 事 事情 问题 方面 方式 办法 位置 地点
最 最多 最少 最长 最晚 最早 最好 直接 顺便 另外 总共 一共 大约 大概 差不多 左右 以上 以下 以内
超过 超出 不超过 至少 整 整个 整天 一整天 全天 一天 一晚 一次 每次 一定 非得 得 该 是否 能否
刚 刚刚 刚才 才 新 正在 先 然后 平时 经常 总是 老是 有时候 偶尔 一般来说 通常 其实 反正 特别
钟头 个钟头 小时 分钟 周 星期 礼拜 季度 半年 一年 个月 多久 多长 多长时间 多大 多远
这种 那种 哪种 这么 那么 这样子 那样子 这些 那些 之类 什么的 啥的 等等
多少钱 几块钱 多少块 几块 多少钱1个 几钱
告诉 发我 说说 讲讲 介绍 介绍一下
想问 想问问 咨询 咨询一下 了解 了解一下 请教 打听 那个 嗯 呃 额 哎 唉 诶 哈哈 对了
""".split())
# Facets of a topic that no entry answers unless it says so: money back or off, other
# ways to pay, transfer and lending, staff, inspections. Foreign to the entry, one of
# them in the ask refuses whatever the classifier says (物业费能分期吗, 车位能转租吗).
FACET_WORDS = frozenset("""
补偿 赔偿 赔 赔钱 退款 退钱 退费 优惠 打折 折扣 减免 免单 分期 信用卡 公积金 积分 奖励 返现
押金 发票 专票 抬头 收据 转让 转租 转卖 出售 卖 借 借给 借用 捐 捐给 寄 寄快递 延长 延期 复制
复印 保险 教练 私教 救生员 经理 领导 老板 录像 调监控 消毒 检测 甲醛 年检 保养 演练 业委会
业主大会 选举 落户 学区 上户口 产权 开发商 回收 解绑 储藏室
""".split())
# Final particles that close a clause when more follows (交吗我不想跑一趟).
_CLAUSE_ENDS = frozenset("吗 呢 吧 啊 呀 啦 嘛".split())
# A question word followed by the speaker starts a remark (电话多少我家老人…).
_ASK_WORDS = frozenset("多少 多少钱 哪 哪里 哪儿 哪个 几点 多久 怎么办 怎么样 什么时候".split())
_SPEAKER = frozenset("我 我们 我家 俺 家里 我们家".split())
# Another community or company: our knowledge base answers for 翠湖花园 only.
_ELSEWHERE = re.compile(
    r"外部公司[\u4e00-\u9fff]{0,4}?(?:小区|物业|电话|客服|热线|号码|营业厅)|(?:隔壁|对面|旁边|附近|别的|其他|其它|人家)的?[\u4e00-\u9fff]{0,3}?(?:小区|楼盘)"
    r"|(?:隔壁|对面|别的|其他|其它|人家)的?物业(?!费)"
    r"|管(?:着|了)?(?:哪些|几个|多少个?|别的|其他|其它)(?:小区|楼盘|项目)"
)
# Kinds of fact a clause may ask for, each with how an entry shows that it states one:
# a price asked of an entry that names no price or charge (健身房办年卡多少钱) is not
# answered by it, nor a time asked of one that gives no hours or durations.
_ASPECTS = (
    (re.compile(r"多少钱|收费|收钱|要钱|给钱|付费|花钱|贵不贵|价格|价钱|年卡|月卡|收多少|几块|涨价|降价"),
     re.compile(r"\d元|\d块|免费|收费|不收|价格|费用|单价")),
    (re.compile(r"几点|多久|多长时间|几个小时"),
     re.compile(r"\d[:：]\d|\d\s*个?(?:小时|天|分钟|工作日|月|周|年)|工作日|周[一二三四五六日末]"
                r"|上午|下午|晚上|次日|提前|当天|随时")),
)
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
            self._words[entry.id] = _with_parts(words | model.faq_words.get(entry.id, frozenset()))
            self._chars[entry.id] = frozenset("".join(texts).replace(" ", "")) | _LIGHT_CHARS
            used.update(words)
        self._generic = GENERIC_WORDS | {w for w, n in used.items() if n >= GENERIC_ENTRIES}
        self._faq = model.faq
        self._none = self._faq.labels.index(NO_FAQ) if NO_FAQ in self._faq.labels else -1
        self._seen = model.vectorizer.vocabulary  # word features are named "w:<word>"
        # Per entry, the aspects (price, time) it answers: its answer states that kind of
        # fact, or its editor listed a question asking it (补一张门卡要多久).
        self._states: dict[str, tuple[bool, ...]] = {
            entry.id: tuple(
                bool(states.search(fold(entry.answer)))
                or any(asked.search(normalize(q).replace(" ", ""))
                       for q in [entry.question, *entry.similar_questions])
                for asked, states in _ASPECTS
            )
            for entry in entries
        }

    def answers(
        self, faq_id: str, words: list[str], faq_probs: Sequence[float], view: str | None = None
    ) -> bool:
        """False when the message asks what the entry does not say.

        `faq_probs`: the FAQ classifier's probabilities for the message; `view` (the
        normalized text with its spaces and question marks, see
        `nlu.normalize.normalize_parts`) tells the resident's clauses apart.
        """
        text = "".join(words)
        if self._asks_what_it_lacks(faq_id, text, words, view):
            return False
        elsewhere = _ELSEWHERE.search(text)
        whole = self._foreign(faq_id, [words])
        if not elsewhere and whole == ([], 0):
            return True  # nothing foreign anywhere: no clause can hold a foreign ask
        clauses = asking_clauses(words, view)
        if elsewhere and any(_ELSEWHERE.search("".join(clause)) for clause in clauses):
            return False
        foreign, earlier = whole if clauses[0] is words else self._foreign(faq_id, clauses)
        if not foreign and not earlier:
            return True
        if not FACET_WORDS.isdisjoint(words) and self._asks_a_facet(faq_id, clauses):
            return False
        if len(foreign) >= FOREIGN_LIMIT:
            return False
        if self._none < 0:
            return True
        # A foreign word before the known ones (给汽车充电) is the weaker sign: only a
        # doubtful classifier refuses, as for a word it was trained on.
        seen = not foreign or f"w:{foreign[0]}" in self._seen
        floor = SEEN_NONE_FLOOR if seen else UNSEEN_NONE_FLOOR
        return faq_probs[self._none] < floor

    def _asks_what_it_lacks(
        self, faq_id: str, text: str, words: list[str], view: str | None
    ) -> bool:
        """An asking clause asks for a price (or a time) and the entry states none."""
        lacking = [asked for (asked, _), stated in zip(_ASPECTS, self._states.get(faq_id, ()),
                                                       strict=False)
                   if not stated and asked.search(text)]
        if not lacking:
            return False
        return any(any(asked.search("".join(clause)) for asked in lacking)
                   for clause in asking_clauses(words, view))

    def _asks_a_facet(self, faq_id: str, clauses: list[list[str]]) -> bool:
        """A facet word (分期, 押金, 转租) the entry never mentions, in every asking clause."""
        known = self._words.get(faq_id, frozenset())
        return all(
            any(w in FACET_WORDS and w not in known for w in clause) for clause in clauses
        )

    def foreign_ask(
        self, faq_id: str, words: list[str], view: str | None = None
    ) -> list[str]:
        """Foreign words of the asking clause the entry answers best (see `asking_clauses`)."""
        return self._foreign(faq_id, asking_clauses(words, view))[0]

    def _foreign(self, faq_id: str, clauses: list[list[str]]) -> tuple[list[str], int]:
        """The best clause's foreign tail, and how many foreign words come before it."""
        if faq_id not in self._words:
            return [], 0
        best: tuple[list[str], int] | None = None
        for clause in clauses:
            found = self._foreign_words(faq_id, clause)
            if best is None or (len(found[0]), found[1]) < (len(best[0]), best[1]):
                best = found
        return best or ([], 0)

    def _foreign_words(self, faq_id: str, words: list[str]) -> tuple[list[str], int]:
        """Content words after the last one the entry knows (walked from the end), and
        the number of foreign words before it.

        The entry knows a word it uses, or all of whose characters it uses (light
        characters aside).
        """
        known = self._words[faq_id]
        chars, generic = self._chars[faq_id], self._generic
        tail: list[str] = []
        earlier = 0
        in_tail = True
        for word in reversed(words):
            if word in generic or word.isdigit() or (word.isascii() and len(word) < 2):
                continue
            if word in known or chars.issuperset(word):
                in_tail = False
            elif in_tail:
                tail.append(word)
            else:
                earlier += 1
        tail.reverse()
        return tail, earlier


def asking_clauses(words: list[str], view: str | None = None) -> list[list[str]]:
    """The clauses of a message that ask something; the whole message when none does.

    Clauses end where the resident put a space or punctuation (from `view`, the
    normalized text with its question marks) and after a final particle that
    more words follow.
    """
    if view is not None and " " not in view and "?" not in view:
        view = None
    particle = not _CLAUSE_ENDS.isdisjoint(words)
    speaker = not _SPEAKER.isdisjoint(words)
    if view is None and not particle and not speaker:
        return [words]  # one clause: most messages, decided with two C-level set tests
    cuts: dict[int, bool] = {}  # index of a clause's last word → asked with "?"
    if view is not None:
        index = dict(zip(accumulate(map(len, words)), range(len(words)), strict=True))
        for offset, marked in _clause_ends(view):
            last = index.get(offset)
            if last is not None:
                cuts[last] = cuts.get(last, False) or marked
    if particle:
        for i, word in enumerate(words):
            if word in _CLAUSE_ENDS and i and i - 1 not in cuts:
                cuts.setdefault(i, False)
    if speaker:
        for i, word in enumerate(words):
            if word in _SPEAKER and i > 1 and words[i - 1] in _ASK_WORDS and i - 2 not in cuts:
                cuts.setdefault(i - 1, False)
    clauses: list[tuple[list[str], bool]] = []
    first = 0
    for last in sorted(cuts):
        clauses.append((words[first:last + 1], cuts[last]))
        first = last + 1
    if first < len(words):
        clauses.append((words[first:], False))
    if len(clauses) < 2:
        return [words]
    asking = _asking(clauses, asks)
    # Without a question marker anywhere, a request asks (电话给1个 老人不会用微信).
    return asking or _asking(clauses, requests) or [words]


def _asking(
    clauses: list[tuple[list[str], bool]], marker: Callable[[str], bool]
) -> list[list[str]]:
    asking: list[list[str]] = []
    before: list[str] = []
    for clause, marked in clauses:
        if marked or marker("".join(clause)):
            # 还有卖的吗 多少钱一个: a bare question word asks about the clause before it.
            asking.append(clause if _has_content(clause) else before + clause)
        before = clause
    return asking


def _with_parts(words: frozenset[str]) -> frozenset[str]:
    """Words plus the dictionary words inside the longer ones (钢琴 in 弹钢琴)."""
    freq = tokenizer().FREQ
    parts = {
        word[i:j]
        for word in words
        if len(word) > 2
        for i in range(len(word) - 1)
        for j in range(i + 2, len(word) + 1)
        if j - i < len(word) and freq.get(word[i:j])
    }
    return words | parts


def _has_content(clause: list[str]) -> bool:
    if GENERIC_WORDS.issuperset(clause):
        return False
    return any(w not in GENERIC_WORDS and not w.isdigit() for w in clause)


def _clause_ends(view: str) -> list[tuple[int, bool]]:
    """(compact offset where a clause ends, asked with "?") for each clause of a view."""
    ends: list[tuple[int, bool]] = []
    offset = 0
    for clause in view.split(" "):
        marked = clause.endswith("?")
        offset += len(clause.rstrip("?"))
        if ends and ends[-1][0] == offset:  # a lone "?" marks the clause before it
            ends[-1] = (offset, ends[-1][1] or marked)
        else:
            ends.append((offset, marked))
    return ends


def _texts(entry: Faq) -> list[str]:
    return [entry.question, *entry.similar_questions, *entry.keywords, entry.answer]
