"""What the NLU concludes about one message: the contract every consumer reads."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Protocol


@dataclass(frozen=True)
class Entity:
    type: str  # room | phone | time | place
    value: str  # the span as written
    start: int
    end: int
    normalized: Any = None  # room → {"building","unit","room"}; phone → digits; ...


@dataclass(frozen=True)
class FaqCandidate:
    faq_id: str
    question: str
    score: float


@dataclass(frozen=True)
class Decision:
    """One decision per message: intent, FAQ match and entities."""

    text: str
    intent: str
    confidence: float
    margin: float = 1.0
    faq_id: str | None = None
    faq_score: float = 0.0
    candidates: list[FaqCandidate] = field(default_factory=list)
    entities: list[Entity] = field(default_factory=list)
    # A fault told with blame (修了跟没修一样 物业不作为): a repair ticket that records the
    # complaint too.
    also_complaint: bool = False
    # A knowledge-base entry whose facts may accompany a ticket flow (a complaint about a
    # fee rise: the fee table), never the whole reply.
    related_faq: str | None = None
    # A referral entry (category 'referral') naming where to go for a matter that is not
    # the property company's (燃气公司, 供电局, 开发商, 社区居委会, 12345…).
    referral: str | None = None
    # Below these the decision is a likely error: ask a clarifying question or hand over.
    confidence_floor: float = 0.0
    margin_floor: float = 0.0

    def is_unsure(self) -> bool:
        """True when the decision should not be acted on without a clarifying question
        or an agent. An emergency is never unsure: it is acted on at once."""
        if self.intent == "emergency":
            return False
        return self.confidence < self.confidence_floor or self.margin < self.margin_floor

    def entity(self, kind: str) -> Entity | None:
        return next((e for e in self.entities if e.type == kind), None)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Decision:
        return cls(
            text=data["text"],
            intent=data["intent"],
            confidence=float(data["confidence"]),
            margin=float(data.get("margin", 1.0)),
            faq_id=data.get("faq_id"),
            faq_score=float(data.get("faq_score", 0.0)),
            candidates=[FaqCandidate(**c) for c in data.get("candidates", [])],
            entities=[Entity(**e) for e in data.get("entities", [])],
            also_complaint=bool(data.get("also_complaint", False)),
            related_faq=data.get("related_faq"),
            referral=data.get("referral"),
            confidence_floor=float(data.get("confidence_floor", 0.0)),
            margin_floor=float(data.get("margin_floor", 0.0)),
        )


class Understander(Protocol):
    """Anything that turns a resident's text into a Decision."""

    def understand(self, text: str) -> Decision: ...
