"""Rules that must not depend on a model: the emergency detector and short forms.

Emergency must never be missed, so the patterns are broad (recall first) and
override every other intent; a few guards stop talk *about* risks (隐患, 演练)
from paging the duty phone.
"""

from __future__ import annotations

import re

_EMERGENCY = re.compile(
    "|".join(
        [
            # fire and smoke
            r"(?<![不没怕])着火|起火|失火|火灾|烧起来|燃起来|(?<![没不])冒烟|浓烟|黑烟|全是烟|好多烟|火苗|火光|火星",
            r"冒火|火花|烧焦|焦味.{0,4}烟|爆炸|炸了|炸裂|火.{0,4}窜",
            # gas
            r"(?:煤气|燃气|天然气|液化气).{0,10}(?:味|泄|漏|嘶嘶)|漏气|臭鸡蛋味|不敢(?:开灯|开火|打火|点火)",
            # lifts
            r"电梯.{0,8}(?:困|关人|关住|关在|关着|锁在|出不来|往下掉|坠|掉下去)|(?:困|关|卡|锁)在电梯|被困|困人|困住|卡在.{0,6}中间",
            r"电梯.{0,3}有人.{0,8}(?:打不开|开不了|出不来|下不来)|(?:小孩|孩子|老人|人)(?:被)?(?:关|锁|卡)在(?:里面|里头)",
            # water
            # (a pipe split "a small opening" is a leak to repair, not a burst)
            r"爆管|(?:水管|管子|管道|消防管|暖气管|水管子|总管).{0,3}(?:爆|崩|裂开了)(?!了?[1一]?个小?口子)|水漫金山|淹|发大水|积水.{0,4}(?:膝盖|齐腰|很深)",
            r"(?:车库|地下室|配电房|电梯井).{0,4}进水|瀑布",
            # electricity
            r"触电|漏电|电到人|麻手",
            # water on live electrics (往下漏水 电线那块也在滴, 插座都湿了)
            r"(?:电灯|灯|电线|插座|电箱|电表|开关|配电箱|电闸).{0,6}(?:在滴|滴水|进水|湿了|淌水|泡水|往下滴)"
            r"|水.{0,6}(?:流进|滴到|淌到|漏到|泡到)(?:了)?(?:电线|插座|电箱|配电)",
            r"(?:灯|插座|插头|电线|线路|电箱|电闸|开关|电表).{0,6}(?:滋滋|噼啪|噼里啪啦|啪啪)",
            # people
            r"受伤|流血|出血|晕倒|昏倒|晕过去|昏迷|叫不醒|不省人事|摔下来|从.{1,8}掉下来|溺水|掉进去|压住|压到人|要掉下来|要跳(?!绳)",
            r"被车撞|撞人|咬伤|被.{0,3}咬|心脏病|抽搐|喘不上气|要跳楼|跳楼|轻生|救护车|打120|打110|打119",
            # crime
            r"抢劫|抢包|抢东西|打架|打起来|持刀|拿着刀|拿刀|砍人|小偷|撬门|撬锁|入室|偷东西|跟踪|报警(?!器)|绑架|非礼",
            r"砸车|砸门|砸到人|砸伤|翻墙|形迹可疑|被盗|被撬|撬了|撬.{0,6}(?:门|锁|窗)|有人(?:在|正在)撬",
            r"(?:闯|冲)进(?:来|了|我家|家里|屋)|(?:陌生人|有人).{0,6}(?:砸|闯|踹门|踢门|拿着棍)",
            r"陌生(?:人|男的?|女的?|人员).{0,12}(?:转悠|徘徊|拧|撬|蹲守)|(?:拧|扭|撬)(?:我家)?的?门(?:把手?|锁)",
            # calls for help
            # English (spaces are removed before matching)
            r"stuckin(?:the|a)?(?:lift|elevator|电梯)|trapped|onfire|gasleak|smell(?:s|ing)?gas|bleeding"
            r"|ambulance|callthepolice|callpolice|someonefell|breakingin|brokein",
            r"救命|救救|sos|快来人|出大事|要塌|塌了(?![1一]?(?:个|块|点|角)(?:坑|洞)?)|倒塌",
        ]
    )
)
_NOT_NOW = re.compile(
    r"隐患|演练|演习|预防|防盗报警"
    # an alarm device talked about (烟感报警器坏了), not one going off
    r"|报警器(?![^没不]{0,4}(?:响|叫|鸣))"
    # the danger already cut off by the resident (冒火花 已经关了闸 / 已经拔了电)
    r"|已经(?:关|拉|拔|断)了?(?:电|闸|电闸|总闸|插头|阀门?|总阀)"
)
# Inside the clause of the danger word: only feared or supposed (怕哪天着火, 真要着火了
# 怎么办, 随时会掉), habitual (经常停电, 三天两头漏), told of the past (上礼拜进过水),
# or denied (没有烟也没着火). A danger only in such clauses is no emergency now.
_NOT_NOW_CLAUSE = re.compile(
    r"怕|担心|害怕|万一|如果|假如|要是|真要|一旦|迟早|哪天|随时|以免|防止|容易|可能会|会不会"
    r"|经常|老是|总是|三天两头|动不动|时不时|隔三差五|年年|每次|每年"
    r"|没有?(?:烟|冒烟|着火|火|起火|漏|人受伤)|不是(?:燃气|煤气|着火)"
)
# Told of the past (上礼拜进过水, 之前爆过管): no emergency, unless it still goes on.
_PAST_CLAUSE = re.compile(
    r"上(?:个|1个)?(?:礼拜|星期|周|月|次)|前(?:几|两|1)?(?:天|年)|去年|那次|之前|以前|当时|过1次|过一次"
    # a near miss told after the fact (回来差点掉进去), unless it still goes on
    r"|差点|差1点|险些"
)
# The danger goes on now, whatever the story before it (昨晚开始漏 现在还在流).
_STILL = re.compile(r"还在|现在还|正在|一直在|不停|还没停|停不下来|越来越|到现在|现在")
# Clause breaks in the compact text: spaces of the normalized text.
_SPACE = " "


def _clause_bounds(normalized: str) -> list[tuple[int, int]]:
    """Start and end of each clause, as offsets into the compact (space-free) text."""
    bounds, start = [], 0
    for part in normalized.split(_SPACE):
        if part:
            bounds.append((start, start + len(part)))
            start += len(part)
    return bounds


def is_emergency(normalized: str) -> bool:
    """True when the message reports immediate danger (recall over precision).

    A danger word counts unless its own clause tells it as feared, supposed, habitual,
    past or denied (and nothing says it still goes on), or the message talks about risk
    in general (隐患, 演练) or the danger is already cut off.
    """
    compact = normalized.replace(_SPACE, "")
    if _NOT_NOW.search(compact):
        return False
    still = None
    bounds = None
    for match in _EMERGENCY.finditer(compact):
        if bounds is None:
            bounds = _clause_bounds(normalized)
        clause = next((compact[a:b] for a, b in bounds if a <= match.start() < b), "")
        if _NOT_NOW_CLAUSE.search(clause):
            continue
        if not _PAST_CLAUSE.search(clause):
            return True
        if still is None:
            still = bool(_STILL.search(compact))
        if still:
            return True
    return False


def told_as_not_now(normalized: str) -> bool:
    """For a message `is_emergency` rejected: a danger word (then told feared, habitual,
    past or denied) or risk talk anywhere. The classifier's own emergency guess is not
    trusted on such a message."""
    compact = normalized.replace(_SPACE, "")
    return bool(_NOT_NOW.search(compact) or _NOT_NOW_CLAUSE.search(compact)
                or _EMERGENCY.search(compact))


_QUESTION = re.compile(
    # 能不能 / 上不上班, and a final 不 or 没 (保修不, 交了没) also ask
    r"吗|[?？]|怎么|什么|多少|哪|几|可以|是否|如何|规定|(.)不\1|[不没]$"
)


def looks_like_question(normalized: str) -> bool:
    """A question shape: worth showing FAQ candidates even when the intent is unsure."""
    return bool(_QUESTION.search(normalized))


# One clause of a message asks (the asking clause carries the question; the others are
# the resident's situation or remarks): question words, A-not-A (能不能, 有没有, 包不包),
# a final 不/没/呢, a question mark kept by the clause view.
_ASKS = re.compile(
    r"吗|呢|[?？]|怎么|什么|多少|多久|多长|多大|哪|几|谁|可以|是否|能否|如何|规定|(.)[不没]\1|[不没]$"
)


def asks(clause: str) -> bool:
    """True when a clause (no spaces) has a question marker."""
    return bool(_ASKS.search(clause))


# A clause that asks for something without a question word (电话给1个, 发我1下, 告诉我).
_REQUESTS = re.compile(r"给(?:我|个|1个)|发(?:我|1下)|告诉我|帮我|麻烦|请问|想知道|想问|问下|问1下")


def requests(clause: str) -> bool:
    """True when a clause (no spaces) asks for something in the imperative."""
    return bool(_REQUESTS.search(clause))
