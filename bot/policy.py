"""Reasons to bring in a person that no single action sees: anger, staying unsure, a rating.

The engine asks `trigger` before choosing the intent's action. Emergencies are
never diverted (their own action answers and queues them). Counters live in
conversation slots, so they last exactly as long as the conversation.
"""

from __future__ import annotations

import re
from typing import Protocol

from bot.menu import menu_choice
from bot.state import ConversationState
from core.config import Config
from handlers.human import parse_rating
from nlu.decision import Decision

# Strong negative words residents use when they are angry (not mere dissatisfaction).
ANGRY_WORDS = (
    "垃圾物业", "什么破", "破物业", "太差劲", "气死", "气炸", "忍无可忍", "受够了", "无法忍受",
    "骗子", "坑人", "黑心", "混蛋", "王八蛋", "滚蛋", "滚开", "他妈", "tmd", "TMD", "妈的",
    "傻逼", "sb物业",
    "去死", "废物", "不要脸", "欺人太甚", "到底管不管", "还管不管", "有没有人管", "投诉你们",
    "打12345", "曝光", "找媒体", "找律师", "起诉你们", "再也不交",
)
_EXCLAMATIONS = re.compile(r"[!！]")
_LATIN = re.compile(r"[A-Za-z]")
MIN_CAPS_LETTERS = 4


class RatingSource(Protocol):
    def take_pending_rating(self, openid: str) -> int | None: ...


def trigger(config: Config, ratings: RatingSource, text: str, decision: Decision,
            state: ConversationState) -> str | None:
    """The action to run instead of the usual choice, or None."""
    rating_id = ratings.take_pending_rating(state.openid)
    if rating_id is not None and parse_rating(text) is not None:
        state.slots["rating_id"] = rating_id
        return "action_rating"
    if decision.intent == "emergency":
        return None
    reason = None
    if decision.intent == "human" and decision.confidence >= config.nlu.confidence_threshold:
        reason = "human"  # asked for a person: even in the middle of a form
    elif is_angry(config, text, decision, state):
        reason = "anger"
    elif stays_unsure(config, text, decision, state):
        reason = "low_confidence"
    if reason is None:
        return None
    state.slots["handover_reason"] = reason
    return "action_human"


def is_angry(config: Config, text: str, decision: Decision, state: ConversationState) -> bool:
    """Strong words, an exclamation or capitals burst, or complaining again."""
    if any(word in text for word in ANGRY_WORDS):
        return True
    if len(_EXCLAMATIONS.findall(text)) >= config.handoff.anger_exclamations:
        return True
    letters = _LATIN.findall(text)
    if len(letters) >= MIN_CAPS_LETTERS and all(c.isupper() for c in letters):
        return True
    if decision.intent == "complaint" and not state.active_loop:
        count = int(state.slots.get("complaint_count") or 0) + 1
        state.slots["complaint_count"] = count
        return count >= config.handoff.repeated_complaints
    return False


def stays_unsure(config: Config, text: str, decision: Decision,
                 state: ConversationState) -> bool:
    """Unsure again right after the bot asked to rephrase or offered a menu."""
    menu = state.slots.get("faq_menu")
    if state.active_loop or (menu and menu_choice(text) is not None):
        return False
    nlu = config.nlu
    unsure = (decision.confidence < nlu.confidence_threshold
              or decision.margin < nlu.margin_threshold) and decision.faq_id is None
    misses = int(state.slots.get("fallback_count") or 0)
    if not unsure or not (menu or misses):
        return False
    # After a rephrase request, a message with no FAQ to suggest goes to the fallback
    # action, which hands over on its own second miss (reason "fallback").
    suggests = any(c.score >= nlu.faq_suggest_threshold for c in decision.candidates)
    return not (misses and not suggests)
