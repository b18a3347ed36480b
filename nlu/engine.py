"""One decision per message: intent + calibrated confidence, FAQ match, entities.

Combines the trained model (intent and FAQ classifiers), the live FAQ retriever
(which knows edits the model never saw) and the rule layer (emergency, short forms).
Stateless after construction, so one engine serves many threads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import repeat
from operator import add, mul

import numpy as np

from nlu.answerability import Answerability
from nlu.calibration import Calibrator, Evidence
from nlu.decision import Decision, FaqCandidate
from nlu.entities import extract
from nlu.model import Features, NluModel
from nlu.normalize import normalize
from nlu.referral import ReferralIndex
from nlu.reports import ReportSigns, asks_fix, signs
from nlu.retrieval import FaqRetriever
from nlu.rules import is_emergency, looks_like_question, told_as_not_now
from nlu.speedups import compiled

EMERGENCY = "emergency"
FAQ = "faq"
OUT_OF_SCOPE = "out_of_scope"
BILL_QUERY = "bill_query"
_FAULTS = ("repair", "complaint", "service_request")
GREET = "greet"
COMPLAINT = "complaint"
REPAIR, SUGGESTION, SERVICE_REQUEST = "repair", "suggestion", "service_request"
# Intents that open a ticket flow (the forms of handlers/tickets).
TICKET_INTENTS = (REPAIR, COMPLAINT, SUGGESTION, SERVICE_REQUEST)
# Decisions a problem report must not end in: an answer, a refusal, small talk, an account.
_DEAD_ENDS = (FAQ, OUT_OF_SCOPE, GREET, "goodbye", "bind_house", BILL_QUERY)
# Confidence of a decision made by the report safety net: the classifier read the message
# as something else, so the ticket type is a guess (the flow itself is right).
REPORT_CONFIDENCE = 0.6
# The margin of a decision a rule settled (the classifier's top-two margin does not apply).
RULE_MARGIN = 0.5
_SOCIAL = (GREET, "goodbye")
# A payment already made or owed: the question is about the sender's record.
_OWN_BILL = re.compile(
    r"(?:上个?月|上次|上季度|去年|今年).{0,4}[交缴扣]|交了没|交过|还欠|扣了|余额|缴费记录"
)
# Only greetings and "anyone there?" (早上好 有人吗): a greeting, whatever the words
# suggest (早上 is no question about opening hours).
_PRESENCE_ONLY = re.compile(
    r"(?:(?:你好|您好|早上好|上午好|中午好|下午好|晚上好|早安|早|嗨|哈喽|hello|hi|喂+|在吗|在不在"
    r"|有人吗|有人在吗|有没有人|有人没|有人不|有人在不|客服在(?:吗|不在)|人呢|请问|那个|打扰了?)[啊呀哈嘛么的]*)+"
)
# "I am filing a complaint" (…推来推去 太不负责任了 我要投诉): whatever the story is about
# (a repair, an earlier ticket), the message is a complaint; asking how to complain is not.
_FILES_COMPLAINT = re.compile(
    r"我(?:要|想|必须|得|就要)(?:投诉|举报)(?!.{0,6}(?:怎么|哪|吗|流程|渠道|电话|途径))"
)
_TOLD_AS_OTHER = ("ticket_status", "repair", "service_request")
# The resident asks the office to do something for them, not how a rule goes.
_ASKS_TO_ACT = re.compile(r"(?:帮|替)(?:我|咱|俺)|麻烦(?:你们|物业|师傅)")
# Signs a bill question is about the sender's own account: a person, a room, a payment history.
_OWN = re.compile(
    r"我|咱|俺|自家|本户|\d{3,4}|上个?月|上次|上季度|去年|交了|交过|交的|欠|扣|余额|账单|记录"
    r"|退了|还剩|到期|预存"
)


@dataclass(frozen=True)
class Thresholds:
    """The knobs from config.yaml's nlu section that shape a decision."""

    faq_answer_threshold: float = 0.20
    faq_suggest_threshold: float = 0.10
    # On the calibrated confidence of the whole decision: below it, Decision.is_unsure().
    confidence_threshold: float = 0.50
    # On the intent classifier's own probability: below it the engine looks at FAQ
    # candidates (and a bare word gets a menu) before settling the intent.
    classifier_threshold: float = 0.45
    bill_margin: float = 0.2
    faq_override_score: float = 0.40
    faq_question_score: float = 0.8
    emergency_floor: float = 0.50
    faq_classifier_weight: float = 0.8
    candidates: int = 3
    margin_threshold: float = 0.10


# A single word of at most this many characters, asking nothing, is a bare topic word.
BARE_WORD_CHARS = 4
# Its confidence at most: below any sensible confidence threshold, so the bot offers
# the FAQ candidates as a menu or asks to rephrase.
BARE_WORD_CONFIDENCE = 0.3


def _bare_word(features: Features) -> bool:
    return (len(features.words) == 1 and len(features.words[0]) <= BARE_WORD_CHARS
            and not looks_like_question(features.normalized))


@dataclass
class _Route:
    """A decision being settled: intent, its confidence and the entries attached."""

    intent: str
    confidence: float
    margin: float
    faq_id: str | None
    also_complaint: bool = False
    related_faq: str | None = None
    referral: str | None = None
    source: str = "classifier"  # how it was reached (nlu.calibration.SOURCES)


# The message addresses the property office itself (物业能…吗, 你们可以…).
_ADDRESSES_US = re.compile(r"物业|你们|贵公司|服务中心|前台|管家")
# Somewhere or someone of the community: a nuisance told about a place of ours.
_OUR_PLACES = re.compile(
    r"物业|小区|楼|单元|栋|幢|电梯|车库|地库|车位|门口|大门|保安|保洁|邻居|楼上|楼下|隔壁|对门|家里|我家|业主"
    r"|绿化|花园|广场|门禁|物业费|管家|前台|师傅"
)


def _dead_ends(route: _Route, report: ReportSigns, compact: str) -> bool:
    """Would this decision leave a reported problem without a ticket?

    - an answer is right for a rule asked about a fault (坏了找物业修要收费吗), wrong for
      a grievance (重复收费吧 我要求退钱) or a nuisance the office is asked to stop;
    - no answer (or a refusal) for a fault, a nuisance or a grievance, unless it only
      asks a rule; a refusal only when the problem is in our community;
    - an idea for the community read as a question is a suggestion.
    """
    if route.faq_id is not None:
        if report.rule_ask:
            return False
        return report.strong_grievance or (
            (report.nuisance or report.fault) and report.fix_ask)
    if route.intent == OUT_OF_SCOPE and not (report.strong_grievance
                                              or _OUR_PLACES.search(compact)):
        return False
    if route.intent == FAQ and report.suggests and not report.rule_ask:
        return True
    return report.reports and not (report.rule_ask and not report.strong_grievance
                                   and not report.asks_action)


class NluEngine:
    """The model and a retriever, frozen together; rebuild to change either."""

    def __init__(self, model: NluModel, retriever: FaqRetriever, thresholds: Thresholds) -> None:
        self.model = model
        self.retriever = retriever
        self.thresholds = thresholds
        labels = model.intent.labels
        self._emergency = labels.index(EMERGENCY)
        self._weights = np.hstack([model.intent.weights, model.faq.weights])
        self._bias = np.concatenate([model.intent.bias, model.faq.bias])
        self._split = len(labels)
        positions = {label: i for i, label in enumerate(model.faq.labels)}
        # For every enabled entry, its column in the FAQ classifier (-1: unknown to the model).
        self._faq_columns = [positions.get(i, -1) for i in retriever.ids]
        self._unknown_entries = -1 in self._faq_columns
        self._answerability = Answerability(retriever.entries, model)
        self._referrals = ReferralIndex(retriever.referrals)
        self._entry_text = {e.id: normalize("".join([e.question, e.answer, *e.similar_questions,
                                                     *e.keywords])).replace(" ", "")
                            for e in retriever.entries}
        self._linear_softmax = compiled.linear_softmax if compiled is not None else None

    def understand(self, text: str) -> Decision:
        return self._decide(text, self.model.calibrator)[0]

    def decide(self, text: str) -> tuple[Decision, Evidence | None]:
        """The decision with the classifier's own confidence, and the evidence the
        calibrator turns into P(decision correct) (what calibration is fitted on)."""
        return self._decide(text, None)

    def _decide(self, text: str,
                calibrator: Calibrator | None) -> tuple[Decision, Evidence | None]:
        features = self.model.featurize(text)
        if not features.normalized:
            return Decision(text=text, intent=OUT_OF_SCOPE, confidence=0.0, margin=0.0,
                            entities=extract(text, features.folded),
                            confidence_floor=self.thresholds.confidence_threshold,
                            margin_floor=self.thresholds.margin_threshold), None
        intent_probs, faq_probs = self._probabilities(features)
        intent, confidence, margin = self._intent(features, intent_probs)
        bare = _bare_word(features) and intent != EMERGENCY and (
            intent in (FAQ, OUT_OF_SCOPE) or confidence < self.thresholds.classifier_threshold
        )
        if bare:
            # One bare topic word (门禁, 物业费, 卡): the classifier's calibration does not
            # hold on a single word, and no one entry is the answer; offer the candidates.
            # A word the classifier is sure names an action (漏水 → repair) keeps it.
            intent, confidence, margin = FAQ, min(confidence, BARE_WORD_CONFIDENCE), 0.0
        intent, faq_id, faq_score, candidates = self._faq(features, faq_probs, intent, confidence)
        route = _Route(intent, confidence, margin, faq_id)
        if bare:
            route.faq_id, route.source = None, "bare"
        else:
            self._route(route, features.normalized, intent_probs)
        evidence = self._evidence(route, intent_probs, candidates, len(features.normalized))
        margin_floor = self.thresholds.margin_threshold
        if calibrator is not None:
            # The calibrated confidence already weighs the margin: it alone marks the unsure.
            # It may lower the classifier's belief in its own reading, never raise it (呃呃呃
            # 这个那个 stays unsure however often that intent is right elsewhere).
            calibrated = calibrator(evidence)
            route.confidence = min(calibrated, route.confidence) \
                if evidence.source == "classifier" else calibrated
            route.margin, margin_floor = min(route.margin, route.confidence), 0.0
        decision = Decision(
            text=text,
            intent=route.intent,
            confidence=round(route.confidence, 4),
            margin=round(max(0.0, route.margin), 4),
            faq_id=route.faq_id,
            faq_score=round(faq_score, 4),
            candidates=candidates,
            entities=extract(text, features.folded),
            also_complaint=route.also_complaint,
            related_faq=route.related_faq,
            referral=route.referral,
            confidence_floor=self.thresholds.confidence_threshold,
            margin_floor=margin_floor,
        )
        return decision, evidence

    def _evidence(self, route: _Route, probs: list[float], candidates: list[FaqCandidate],
                  length: int) -> Evidence:
        first, second = sorted(probs, reverse=True)[:2]
        top = self.model.intent.labels[probs.index(first)]
        source = route.source
        if source == "classifier" and route.intent != top:
            source = "emergency_rule" if route.intent == EMERGENCY and route.confidence >= 0.95 \
                else "rule"
        elif source == "classifier" and route.intent == EMERGENCY and route.margin == 0.9:
            source = "emergency_rule"
        score = candidates[0].score if candidates else 0.0
        gap = score - candidates[1].score if len(candidates) > 1 else score
        return Evidence(route.intent, first, first - second, score, gap,
                        route.faq_id is not None, source, length)

    def _route(self, route: _Route, normalized: str, probs: list[float]) -> None:
        """Problem reports to a ticket flow, other bodies' matters to a referral.

        - a fault, nuisance or grievance read as a question, a refusal, small talk or an
          account is a ticket (the answer it matched may accompany it: `related_faq`);
        - a fault told with blame stays a repair and records the complaint;
        - a question about another body's matter (燃气公司, 开发商, 学区…) that no entry
          of ours answers gets that body's referral.
        """
        if route.intent == EMERGENCY:
            return
        report = signs(normalized)
        by_label = dict(zip(self.model.intent.labels, probs, strict=True))
        if route.intent in TICKET_INTENTS:
            self._settle_ticket(route, report, by_label)
            return
        compact = normalized.replace(" ", "")
        if route.intent in _DEAD_ENDS and _dead_ends(route, report, compact):
            referral = None
            if route.faq_id is None and not (report.grievance or report.asks_action):
                referral = self._referral(compact)
            if referral:
                self._refer(route, referral[0], compact)
                return
            route.related_faq, route.faq_id = route.faq_id, None
            route.intent = self._ticket_for(report, by_label)
            route.confidence, route.margin = REPORT_CONFIDENCE, RULE_MARGIN
            route.source = "report"
            route.also_complaint = route.intent == REPAIR and report.blame
            return
        if route.intent not in (FAQ, OUT_OF_SCOPE):
            return
        # With an answer in hand only a named body (a keyword) may turn it into a referral.
        referral = self._referral(compact, questions=route.faq_id is None)
        if referral is None:
            return
        # An answer from an entry that never speaks of the other body's matter (燃气费 asked,
        # the water-and-power entry found) is no answer: refer instead.
        keyword = referral[1]
        if route.faq_id is None or (len(keyword) >= 3
                                    and keyword[:2] not in self._entry_text[route.faq_id]):
            route.faq_id = None
            self._refer(route, referral[0], compact)

    def _referral(self, compact: str, questions: bool = True) -> tuple[str, str] | None:
        return self._referrals.match(compact, questions) if self._referrals else None

    @staticmethod
    def _refer(route: _Route, referral: str, compact: str) -> None:
        """Attach the referral; a question put to the office itself (物业能开居住证明吗)
        stays the question the classifier read, the rest is another body's matter."""
        route.referral, route.source = referral, "referral"
        if not (route.intent == FAQ and _ADDRESSES_US.search(compact)):
            route.intent = OUT_OF_SCOPE

    @staticmethod
    def _ticket_for(report: ReportSigns, probs: dict[str, float]) -> str:
        """The ticket type of a report the classifier did not read as one."""
        if report.suggests and not (report.fault or report.nuisance or report.grievance):
            return SUGGESTION
        if report.repair_first:
            return REPAIR
        if report.nuisance or report.grievance:
            return COMPLAINT
        if report.fault:
            return REPAIR
        return max(TICKET_INTENTS, key=probs.__getitem__)

    @staticmethod
    def _settle_ticket(route: _Route, report: ReportSigns, probs: dict[str, float]) -> None:
        """Repair or complaint: a fault to fix told with blame is a repair that records the
        complaint; a grievance about people, a pattern or a formal complaint stays one."""
        if route.intent == REPAIR:
            route.also_complaint = report.blame
            if report.files and probs[COMPLAINT] >= 0.05:  # 我要投诉: the resident's word
                route.intent, route.margin, route.source = COMPLAINT, RULE_MARGIN, "settled"
        elif route.intent == COMPLAINT and report.repair_first:
            route.intent, route.also_complaint, route.source = REPAIR, True, "settled"
            route.confidence = max(probs[REPAIR], min(route.confidence, REPORT_CONFIDENCE))
            route.margin = RULE_MARGIN

    def _probabilities(self, features: Features) -> tuple[list[float], list[float]]:
        """Calibrated intent and FAQ probabilities, both models in one gather and product.

        Past the softmax, a few dozen plain floats.
        """
        intent, faq = self.model.intent, self.model.faq
        if self._linear_softmax is not None:
            return self._linear_softmax(features.idx, features.values, self._weights,
                                        self._bias, self._split, intent.temperature,
                                        faq.temperature)
        raw = features.values @ self._weights.take(features.idx, axis=0) + self._bias
        return (intent.calibrated(raw[: self._split]).tolist(),
                faq.calibrated(raw[self._split:]).tolist())

    def _intent(self, features: Features, probs: list[float]) -> tuple[str, float, float]:
        """Classifier first, then the rules that may overrule it: short forms, emergency."""
        first, second = sorted(range(len(probs)), key=probs.__getitem__, reverse=True)[:2]
        labels = self.model.intent.labels
        intent, runner_up = labels[first], labels[second]
        confidence = probs[first]
        margin = confidence - probs[second]
        if (intent, runner_up) == (FAQ, BILL_QUERY) and margin < self.thresholds.bill_margin:
            if _OWN_BILL.search(features.normalized):  # 上个月交的…是多少: a record, not a rule
                intent, confidence, margin = BILL_QUERY, probs[second], 0.0
        compact = features.normalized.replace(" ", "")
        short = self.model.short_forms.get(compact)
        if short is not None and short != intent:
            intent, confidence, margin = short, max(confidence, 0.95), 0.9
        elif intent != GREET and _PRESENCE_ONLY.fullmatch(compact):
            intent, confidence, margin = GREET, max(confidence, 0.9), 0.8
        elif intent in _TOLD_AS_OTHER and _FILES_COMPLAINT.search(compact):
            intent, confidence, margin = COMPLAINT, max(confidence, 0.8), 0.5
        emergency = probs[self._emergency]
        if is_emergency(features.normalized):
            return EMERGENCY, max(emergency, 0.95), 0.9
        if intent == EMERGENCY and emergency < self.thresholds.emergency_floor:
            # No danger word, and the classifier itself below its emergency floor.
            intent, confidence, margin = runner_up, probs[second], 0.0
        elif intent == EMERGENCY and asks_fix(compact):
            # No danger word, and the resident asks for a fix (井盖碎了 快拿东西挡上修好):
            # a hazard to repair, not a danger now.
            intent, confidence, margin = runner_up, probs[second], 0.0
        if told_as_not_now(features.normalized):
            # A danger feared, habitual, past or denied: the classifier's emergency guess
            # (from the danger word) gives way to its next reading.
            if intent == EMERGENCY:
                intent, confidence, margin = runner_up, probs[second], 0.0
            return intent, confidence, margin
        if (emergency >= self.thresholds.emergency_floor and intent != EMERGENCY
                and not asks_fix(compact)):
            return EMERGENCY, emergency, emergency - confidence
        return intent, confidence, margin

    def _faq(
        self, features: Features, faq_probs: list[float], intent: str, confidence: float
    ) -> tuple[str, str | None, float, list[FaqCandidate]]:
        """FAQ candidates when the text asks something; an answer only when confident."""
        unsure = confidence < self.thresholds.classifier_threshold
        question = looks_like_question(features.normalized)
        if not (intent == FAQ or unsure or question):
            return intent, None, 0.0, []
        candidates = self.retriever.top(self.faq_scores(features, faq_probs),
                                        self.thresholds.candidates)
        if not candidates:
            return intent, None, 0.0, []
        score = candidates[0].score
        if intent != EMERGENCY and self._prefer_faq(intent, unsure, question, score,
                                                    features.normalized):
            intent = FAQ
        answered = intent == FAQ and score >= self.thresholds.faq_answer_threshold
        answered = answered and self._answerability.answers(
            candidates[0].faq_id, features.words, faq_probs, features.view
        )
        return intent, candidates[0].faq_id if answered else None, score, candidates

    def _prefer_faq(
        self, intent: str, unsure: bool, question: bool, score: float, normalized: str
    ) -> bool:
        """When a strong FAQ match beats the classifier's intent.

        - the intent is unsure;
        - a bill query about no one's bill: bill queries are about the sender's own
          household; without 我/咱/a room the question is about the rules (物业费单价);
        - a greeting or thanks around a question (你好 请问…, …放哪了 谢谢啦): the question
          is what wants an answer;
        - a fault or a plan told only to ask a rule about it (灯坏了 物业来修收不收费,
          漏水还保修不, 想装充电桩 物业给开证明吗): a question whose FAQ match is very strong,
          unless the resident asks the office to act (帮我办一下, 麻烦师傅…).
        """
        if intent == FAQ or score < self.thresholds.faq_override_score:
            return False
        if unsure or (intent == BILL_QUERY and not _OWN.search(normalized)):
            return True
        if intent in _SOCIAL and question:  # …but 有人吗 only asks whether anyone is there
            return not _PRESENCE_ONLY.fullmatch(normalized.replace(" ", ""))
        if _ASKS_TO_ACT.search(normalized):  # 装修许可帮我办一下 需要补啥材料: a request
            return False
        return intent in _FAULTS and question and score >= self.thresholds.faq_question_score

    def faq_scores(self, features: Features, probs: list[float] | None = None) -> list[float]:
        """Per enabled entry: live retrieval blended with the trained FAQ classifier.

        `probs`: the FAQ classifier's probabilities, when already computed. An entry the
        model never saw (added after training) is judged on retrieval alone.
        """
        retrieval = self.retriever.scores(features.normalized, features.words)
        if not retrieval:
            return retrieval
        if probs is None:
            probs = self._probabilities(features)[1]
        weight = self.thresholds.faq_classifier_weight
        keep = 1 - weight
        if self._unknown_entries:
            return [keep * r + weight * probs[c] if c >= 0 else r
                    for r, c in zip(retrieval, self._faq_columns, strict=True)]
        # Every entry known to the model (the usual case): the same sums, mapped in C.
        return list(map(add, map(mul, retrieval, repeat(keep)),
                        map(mul, map(probs.__getitem__, self._faq_columns), repeat(weight))))
