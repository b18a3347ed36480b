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
            r"爆管|(?:水管|管子|管道|消防管|暖气管|水管子|总管).{0,3}(?:爆|崩|裂开了)|水漫金山|淹|发大水|积水.{0,4}(?:膝盖|齐腰|很深)",
            r"(?:车库|地下室|配电房|电梯井).{0,4}进水|瀑布",
            # electricity
            r"触电|漏电|电到人|麻手",
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
            r"救命|救救|sos|快来人|出大事|要塌|塌了(?![1一]?个(?:坑|洞))|倒塌",
        ]
    )
)
_NOT_NOW = re.compile(
    r"隐患|演练|演习|万一|如果|假如|预防|防盗报警|会不会.{0,6}(?:着火|漏电)"
    r"|怕.{0,2}(?:着火|起火|失火|火灾)"
    # an alarm device talked about (烟感报警器坏了), not one going off
    r"|报警器(?![^没不]{0,4}(?:响|叫|鸣))"
    # the danger already cut off by the resident (冒火花 已经关了闸 麻烦来修)
    r"|已经(?:关|拉)了?(?:电)?闸"
)


def is_emergency(normalized: str) -> bool:
    """True when the message reports immediate danger (recall over precision)."""
    compact = normalized.replace(" ", "")
    return bool(_EMERGENCY.search(compact)) and not _NOT_NOW.search(compact)


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
