"""Signs that a message reports a problem, so it never dead-ends in an FAQ or a refusal.

Real residents report faults, nuisances and grievances in every register: third person
and formal (投诉…物业…, 举报…, 关于…的问题), a story before the ask, blame mixed with
the fault (多次反映无人处理, 物业不作为), rhetorical questions (这合理吗, 管什么用). A
classifier trained on short first-person lines reads many of these as questions; these
patterns are the safety net that sends them to a ticket flow instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Something broken, leaking, blocked or not working (in the home or a common area).
_FAULT = re.compile(
    r"坏|故障|失灵|不亮|不转|不热|不凉|不制冷|不通|不出水|没水|没电|没信号|跳闸|堵|漏水|渗水|漏了|滴水|往下滴"
    r"|漏雨|漏风|裂|松动|松了|断了|(?<![卖删扔关退除])掉了(?!吗)|脱落|起泡|发霉|长霉|生锈|锈断|塌|打不开|关不上|合不上|刷不开|没反应"
    r"|卡住|停了|停运|停梯|异响|嗡嗡|咔咔|晃得|水压|发黄|黄水|浑|积水|冒水|翘起|碎了|破了|缺了|不能用|用不了"
    r"|不好使|不灵|抬不起|推不动|不工作|一直响|老化|歪了|倾斜|下沉|凹陷|鼓包|返味|倒灌|满了|冒出来"
)
# Other people's doings that disturb (noise, smells, parking, rubbish, pets, encroachment).
_NUISANCE = re.compile(
    r"吵|噪音|噪声|扰民|震天响|半夜.{0,6}(?:响|叫|敲|拖|跺)|乱停|占用|占了|堵死|堵住|乱扔|扔垃圾|高空抛物|往下扔"
    r"|乱贴|小广告|狗屎|狗粪|不拴绳|不牵绳|拴狗|遛狗|狗.{0,4}叫|油烟|烟味|抽烟|烧纸|鞭炮|烟花|群租|违建|违章"
    r"|搭建|搭了|圈起来|堆放|堆了|堆满|杂物|飞线|私拉|拉线充电|养鸡|鸽子|广场舞|音响|喇叭|臭|发臭|蚊子|老鼠"
    r"|蟑螂|苍蝇|乱收费|发传单|推销|逆行|开得?(?:特别|很|太)?快|砸墙|电钻|电锤|敲敲打打|切瓷砖"
    r"|装修.{0,12}(?:早上|晚上|半夜|周末|周日|周六|中午|午休|[5-7六七]点)"
    r"|脏乱|太脏|很脏|好脏|不干净|乱七八糟|乱糟糟|一塌糊涂|没人打扫|没打扫|不打扫|垃圾成堆|满地(?:垃圾|烟头)"
    r"|睡觉|玩手机|脱岗|不在岗|收红包|索要|刁难|骂人|骂骂咧咧|吼|凶"
    r"|(?:声音|动静|噪音)(?:特别|很|太|好|非常)?大|拍球|打球.{0,4}(?:晚|半夜|10点|11点)"
)
# Blame, accountability and demands: the resident is aggrieved, not asking a rule. Strong
# signs hold even against a matching FAQ entry (重复收费吧 我要求退钱); weak ones (太慢,
# 一直没) only where no entry answers.
_STRONG_GRIEVANCE = re.compile(
    r"不作为|没人管|无人管|没人处理|无人处理|没人修|还没修|还不来|没人来修|没人来处理|没人理|没下文|推来推去|推诿"
    r"|踢皮球|敷衍|走过场|态度.{0,2}(?:差|恶劣|不好)|不负责|摆设|形同虚设|凭什么|给个说法|要个说法|要求(?:赔|退|整改)"
    r"|退钱|重复收费|乱收费|又涨|涨了(?![吗没])|涨到|涨价了(?![吗没])|抢钱|强制|强行|多次反映|反映(?:了|过)(?:好|很)?(?:几|多|[2-9])次"
    r"|说了.{0,3}(?:次|遍)|打了.{0,4}电话|从来不|不公开|不公示|知情权|公共收益|钱.{0,3}去哪|干什么用|管什么用"
    r"|有什么用|干嘛用|干嘛的|早该|受不了|忍不了|苦不堪言|不像话|太过分|欺负|坑业主|只知道收|到底管不管|还管不管"
    r"|管不管了|你们管不管|物业费白交"
)
_WEAK_GRIEVANCE = re.compile(
    r"不管|合理吗|说法|赔偿|公共收益|反映(?:了|过)|一直没|太差|太慢|不满|气死|没法住|投诉了?(?:好)?(?:几|多|[2-9])次"
    r"|都没人来(?![领拿取])|(?:报|修)了(?:好)?(?:几|两|多|[2-9])次|修了跟没修一样|白修|越修越"
)
# Filing a complaint or a report (我要投诉…, 举报…), not asking how to (怎么投诉, 投诉多久有回复,
# 会不会被投诉).
_FILES = re.compile(
    r"(?<![被怎么想以能])(?:投诉|举报)(?![的过]|.{0,8}(?:怎么|如何|哪|吗|渠道|途径|流程|多久|电话|回访|匿名|方式|比较快|有用))"
)
# Asking the office to act (come, fix, handle, sort it out).
_ASK_ACTION = re.compile(
    r"派(?:个)?人|派.{0,2}师傅|来人|来修|来看|上门(?:来)?(?:修|看|处理)|修一下|修好|修补|修复|处理一下|处理下|赶紧"
    r"|尽快|马上|制止|劝阻"
    r"|管管|管一管|整改|督促|协调|出面|查一下是|请.{0,6}(?:处理|解决|修|清理|检查|来)|希望.{0,8}(?:处理|解决|管|清理)"
    r"|麻烦.{0,6}(?:来|派|处理|修|看|弄|换|清)|换一下|换个|通一下|清理一下|弄一下|帮忙"
)
# Asking where or how one may complain (在哪里提意见投诉, 可以举报吗): a question.
_ASKS_HOW_TO_FILE = re.compile(
    r"(?:哪|怎么|如何|能不能|可不可以|可以|能否|是否).{0,6}(?:投诉|举报)"
)
# Asking for the fault to be fixed, now (来修, 派个师傅, 来给看看), not told as undone
# (还没修好, 还不来修: a grievance).
_FIX_ASK = re.compile(
    r"(?<![没不])(?<!没人)(?<!没有人)(?:来修|修一下|修下|修好|修补|修复|派(?:个)?人|派.{0,2}师傅|来.{0,2}看看|给看看"
    r"|过来看|来看一?下|换一下|换个新|通一下|疏通|检修|维修一下|来处理|处理一下)"
)
# An idea or praise rather than a fault (建议…, 能不能加…, 表扬…).
_SUGGESTS = re.compile(
    r"建议|提个?建议|提点?意见|意见箱|表扬|感谢|点赞|夸一下|夸夸|辛苦了.{0,4}师傅"
    r"|(?:能不能|能否|是否可以|可不可以|可以不可以|希望能?|最好能?)(?:在|给|把)?.{0,8}"
    r"(?:加|增|多装|多放|装个|装几|设个|设置|开放|也开|换成|改成|安排|组织)"
)
# The resident's own flat, space or things: a permission question (能不能在自己车位上加个地锁),
# not a suggestion for the community.
_OWN_THING = re.compile(r"自己|我家|我的|自家|俺家")
# Habitual or repeated (经常, 三天两头, 又): a complaint about the pattern, not one fault.
_CHRONIC = re.compile(
    r"经常|老是|总是|三天两头|隔三差五|年年|每次|动不动|又.{0,3}(?:坏|停|漏|堵|涨)"
)
# A fault told only to ask a rule about it (坏了找物业修要收费吗, 漏水还在保修期吗).
_RULE_ASK = re.compile(
    r"收费吗|收不收|要钱吗|要不要钱|多少钱|收多少|保修|保修期|归谁|谁负责|谁出钱|谁来出|怎么办理|怎么补|在哪补|补办|会怎么|怎么处理|会不会|会被|上门来催|催吗"
    r"|[要收出付花]钱|免费|付费|业主出"
    r"|去哪办|怎么申请|需要什么|要带|有什么规定|规定是|的规定|规定吗|几点|多久|多长时间|什么时候上门"
)


@dataclass(frozen=True)
class ReportSigns:
    """What in a message marks it as a problem report, and of which kind."""

    fault: bool
    nuisance: bool
    grievance: bool  # strong or weak
    strong_grievance: bool
    asks_action: bool
    fix_ask: bool
    files: bool  # 我要投诉…, 举报…: a complaint by the resident's own word
    suggests: bool
    chronic: bool
    rule_ask: bool

    @property
    def reports(self) -> bool:
        """A fault, a nuisance or a grievance is told: the message wants a ticket."""
        return self.fault or self.nuisance or self.grievance

    @property
    def blame(self) -> bool:
        return self.grievance or self.chronic

    @property
    def repair_first(self) -> bool:
        """A fault the resident asks to have fixed now, not a pattern or a formal
        complaint: a repair ticket (recording any blame as a complaint)."""
        return self.fault and self.fix_ask and not (self.files or self.chronic or self.nuisance)


def signs(normalized: str) -> ReportSigns:
    """The report signs of a normalized message."""
    compact = normalized.replace(" ", "")
    files = bool(_FILES.search(compact)) and not _ASKS_HOW_TO_FILE.search(compact)
    strong = files or bool(_STRONG_GRIEVANCE.search(compact))
    return ReportSigns(
        fault=bool(_FAULT.search(compact)),
        nuisance=bool(_NUISANCE.search(compact)),
        grievance=strong or bool(_WEAK_GRIEVANCE.search(compact)),
        strong_grievance=strong,
        asks_action=bool(_ASK_ACTION.search(compact)),
        fix_ask=bool(_FIX_ASK.search(compact)),
        files=files,
        suggests=bool(_SUGGESTS.search(compact)) and not _OWN_THING.search(compact),
        chronic=bool(_CHRONIC.search(compact)),
        rule_ask=bool(_RULE_ASK.search(compact)),
    )


def asks_fix(compact: str) -> bool:
    """The resident asks for something to be fixed (修好, 派个师傅, 来看看)."""
    return bool(_FIX_ASK.search(compact))
