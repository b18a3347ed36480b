"""命中测试: one sentence through the live NLU, with the candidates, their scores, the
thresholds, what the bot would do, and in words why nothing matched when nothing did."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from core.config import NluConfig
from knowledge_base.repository import FaqRepository
from nlu.answerability import Answerability
from nlu.decision import Decision
from nlu.engine import NluEngine, Thresholds
from nlu.retrieval import FaqRetriever

CANDIDATES = 5


@dataclass
class HitResult:
    """What the hit-test page shows."""

    text: str
    decision: Decision
    candidates: list[dict[str, Any]]
    thresholds: dict[str, float]
    outcome: str  # answer | menu | fallback | intent
    answer_id: str | None
    reasons: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {"text": self.text, "intent": self.decision.intent,
                "confidence": self.decision.confidence, "margin": self.decision.margin,
                "faq_id": self.decision.faq_id, "faq_score": self.decision.faq_score,
                "candidates": self.candidates, "thresholds": self.thresholds,
                "outcome": self.outcome, "answer_id": self.answer_id, "reasons": self.reasons}


def hit_test(understander: Any, repository: FaqRepository, nlu: NluConfig,
             thresholds: Thresholds, text: str) -> HitResult:
    """Run `text` through the served model and the live entries, and explain the result."""
    decision = understander.understand(text)
    model = understander.model
    retriever = FaqRetriever(repository.list(enabled_only=True))
    engine = NluEngine(model, retriever, thresholds)
    features = model.featurize(text)
    scores = engine.faq_scores(features) if features.normalized else []
    answerability = Answerability(retriever.entries, model)
    probs = _faq_probabilities(model, features) if features.normalized else []
    candidates = []
    for candidate in retriever.top(scores, CANDIDATES):
        refused = candidate.score >= nlu.faq_answer_threshold and not answerability.answers(
            candidate.faq_id, features.words, probs, features.view)
        candidates.append({"faq_id": candidate.faq_id, "question": candidate.question,
                           "score": candidate.score, "chosen": candidate.faq_id == decision.faq_id,
                           "answerable": not refused,
                           "foreign": answerability.foreign_ask(candidate.faq_id, features.words,
                                                                features.view) if refused else []})
    limits = {"faq_answer_threshold": nlu.faq_answer_threshold,
              "faq_suggest_threshold": nlu.faq_suggest_threshold,
              "confidence_threshold": nlu.confidence_threshold,
              "margin_threshold": nlu.margin_threshold,
              "faq_override_score": nlu.faq_override_score}
    outcome, answer_id = route(decision, nlu)
    reasons = explain(decision, candidates, nlu, features.normalized) if answer_id is None else []
    return HitResult(text, decision, candidates, limits, outcome, answer_id, reasons)


def _faq_probabilities(model: Any, features: Any) -> list[float]:
    """The FAQ classifier's calibrated probabilities (the engine's pure-Python path)."""
    faq = model.faq
    raw = features.values @ faq.weights.take(features.idx, axis=0) + faq.bias
    return list(faq.calibrated(raw).tolist())


def route(decision: Decision, nlu: NluConfig) -> tuple[str, str | None]:
    """What the dialogue engine does with the decision (bot/engine.py's pick_action)."""
    if decision.intent == "emergency":
        return "intent", None
    unsure = decision.confidence < nlu.confidence_threshold or \
        decision.margin < nlu.margin_threshold
    if decision.intent != "faq" and not (unsure and decision.candidates):
        return ("fallback" if unsure else "intent"), None
    if decision.faq_id:
        return "answer", decision.faq_id
    if any(c.score >= nlu.faq_suggest_threshold for c in decision.candidates):
        return "menu", None
    return "fallback", None


def explain(decision: Decision, candidates: list[dict[str, Any]], nlu: NluConfig,
            normalized: str) -> list[str]:
    """Why no entry was answered, in the admins' words."""
    if not normalized:
        return ["归一化后没有可识别的文字"]
    if decision.intent == "emergency":
        return ["识别为紧急情况：优先转紧急处理，不使用知识库回答"]
    reasons = []
    if decision.intent != "faq":
        reasons.append(f"意图识别为「{decision.intent}」（置信度 {decision.confidence:.2f}），"
                       "不是知识库问答")
    if decision.confidence < nlu.confidence_threshold:
        reasons.append(f"意图置信度 {decision.confidence:.2f} 低于阈值 "
                       f"{nlu.confidence_threshold:.2f}")
    if not candidates:
        reasons.append("知识库中没有与这句话相近的问题（所有条目得分为 0）")
        return reasons
    best = candidates[0]
    if best["score"] < nlu.faq_answer_threshold:
        reasons.append(f"最相近的「{best['question']}」得分 {best['score']:.2f}，"
                       f"低于回答阈值 {nlu.faq_answer_threshold:.2f}")
    elif not best["answerable"]:
        words = "、".join(best["foreign"][:5])
        reasons.append(f"「{best['question']}」的答案没有涉及所问的内容"
                       + (f"（{words}）" if words else "") + "，可回答性检查未通过")
    if best["score"] < nlu.faq_suggest_threshold:
        reasons.append(f"也没有得分达到 {nlu.faq_suggest_threshold:.2f} 的候选可以列出")
    return reasons or ["候选得分接近，机器人将列出候选让业主选择"]
