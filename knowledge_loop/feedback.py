"""有帮助/没帮助 after FAQ answers: when to ask, the resident's numbered reply, the counts.

Every FAQ answer is logged (which entry, what was asked); some of them are followed
by the question, not all: after every Nth answer, or once per conversation. A reply
of 1-4 shortly after is the resident's verdict and reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.orm import Session, sessionmaker

from core.config import KnowledgeConfig
from core.db import reading, transaction, utcnow
from core.models import Message
from core.models.knowledge_loop import AnswerFeedback

# The numbered reply → (helpful, reason); the prompt text lists them in this order.
CHOICES = {1: (True, "helpful"), 2: (False, "not_solved"), 3: (False, "off_topic"),
           4: (False, "outdated")}
REASON_LABELS = {"helpful": "有帮助", "not_solved": "没有解决问题", "off_topic": "答非所问",
                 "outdated": "信息有误或过时"}
_REPLY = re.compile(r"^\s*([1-4１-４])\s*[。.!！]?\s*$")
_WORDS = {"有帮助": 1, "有用": 1, "没帮助": 2, "没用": 2, "没有帮助": 2, "答非所问": 3}


# Built once: an FAQ answer runs these (statement building costs more than running).
_FEEDBACK = AnswerFeedback.__table__
_LOG_ANSWER = insert(_FEEDBACK)
_ANSWERS_TO = select(func.count()).select_from(_FEEDBACK).where(
    _FEEDBACK.c.openid == bindparam("openid"))
_ASKED_SINCE = _ANSWERS_TO.where(_FEEDBACK.c.asked.is_(True),
                                 _FEEDBACK.c.asked_at >= bindparam("since"))


@dataclass(frozen=True)
class Summary:
    """What residents said about one entry: counts, reasons, recent unhelpful questions."""

    answered: int
    helpful: int
    unhelpful: int
    reasons: list[tuple[str, int]]
    recent: list[str]


def parse_choice(text: str) -> int | None:
    """"2", "２", "没帮助" → 2; anything else is not a feedback reply."""
    match = _REPLY.match(text)
    if match:
        return int(match.group(1).translate(str.maketrans("１２３４", "1234")))
    return _WORDS.get(text.strip().strip("。.!！"))


class FeedbackStore:
    """Logs FAQ answers, decides when to ask, records replies, sums them up per entry."""

    def __init__(self, sessions: sessionmaker[Session],
                 config: KnowledgeConfig | None = None) -> None:
        self.sessions = sessions
        self.config = config or KnowledgeConfig()

    def answered(self, openid: str, faq_id: str, question: str,
                 community_id: int | None = None) -> bool:
        """Log one FAQ answer now; True when the resident should be asked about it."""
        ask, write = self.answer_log(openid, faq_id, question, community_id)
        with transaction(self.sessions) as session:
            write(session)
        return ask

    def answer_log(self, openid: str, faq_id: str, question: str,
                   community_id: int | None = None) -> tuple[bool, Callable[[Session], None]]:
        """Whether to ask now, and the write that logs the answer: a turn commits it
        with its outcome, so an FAQ answer costs no transaction of its own."""
        with reading(self.sessions) as session:
            ask = self._due(session, openid)

        def write(session: Session) -> None:
            session.execute(_LOG_ANSWER, {"openid": openid, "faq_id": faq_id,
                                          "question": question[:500],
                                          "community_id": community_id, "asked": ask})
        return ask, write

    def _due(self, session: Session, openid: str) -> bool:
        mode = self.config.feedback_mode
        if mode == "off":
            return False
        if mode == "every_nth":
            every = max(self.config.feedback_every_nth, 1)
            return int(session.scalar(_ANSWERS_TO, {"openid": openid}) or 0) % every == every - 1
        since = utcnow() - timedelta(hours=self.config.feedback_conversation_hours)
        return not session.scalar(_ASKED_SINCE, {"openid": openid, "since": since})

    def pending(self, openid: str) -> int | None:
        """The id of the open feedback question put to this resident, if still fresh."""
        since = utcnow() - timedelta(minutes=self.config.feedback_reply_minutes)
        with self.sessions() as session:
            row = session.scalars(select(AnswerFeedback).where(
                AnswerFeedback.openid == openid).order_by(AnswerFeedback.id.desc())
                .limit(1)).first()
            if row is None or not row.asked or row.answered_at is not None \
                    or row.asked_at < since:
                return None
            # Only the very next message answers it: once the resident said something
            # else (a form's numbered question may follow), a digit is not feedback.
            since_asked = session.scalar(select(func.count()).select_from(Message).where(
                Message.openid == openid, Message.direction == "in",
                Message.created_at > row.asked_at))
        return row.id if int(since_asked or 0) <= 1 else None

    def claims(self, openid: str, text: str) -> bool:
        return parse_choice(text) is not None and self.pending(openid) is not None

    def record(self, openid: str, text: str) -> bool | None:
        """Store the resident's verdict; returns helpful (None: not a feedback reply)."""
        choice = parse_choice(text)
        feedback_id = self.pending(openid)
        if choice is None or feedback_id is None:
            return None
        helpful, reason = CHOICES[choice]
        with transaction(self.sessions) as session:
            row = session.get(AnswerFeedback, feedback_id)
            if row is None:
                return None
            row.helpful, row.reason, row.answered_at = helpful, reason, utcnow()
        return helpful

    def summary(self, faq_id: str) -> Summary:
        with self.sessions() as session:
            rows = session.scalars(select(AnswerFeedback).where(
                AnswerFeedback.faq_id == faq_id).order_by(AnswerFeedback.id.desc())).all()
        rated = [r for r in rows if r.helpful is not None]
        reasons = Counter(REASON_LABELS.get(r.reason or "", r.reason or "")
                          for r in rated if not r.helpful)
        recent = [r.question for r in rated if not r.helpful and r.question][:5]
        return Summary(len(rows), sum(1 for r in rated if r.helpful),
                       sum(1 for r in rated if not r.helpful), reasons.most_common(), recent)

    def most_answered(self, limit: int, days: int = 30,
                      community_id: int | None = None) -> list[str]:
        """Entry ids answered most often lately: the welcome card's "most asked"."""
        since = utcnow() - timedelta(days=days)
        query = select(AnswerFeedback.faq_id, func.count()).where(
            AnswerFeedback.asked_at >= since).group_by(AnswerFeedback.faq_id) \
            .order_by(func.count().desc(), AnswerFeedback.faq_id).limit(limit)
        if community_id is not None:
            query = query.where(AnswerFeedback.community_id == community_id)
        with self.sessions() as session:
            return [faq_id for faq_id, _ in session.execute(query)]
