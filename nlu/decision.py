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
    # Below these the decision is unsure (set from config.nlu by whoever acts on it).
    unsure_confidence: float = 0.45
    unsure_margin: float = 0.10

    def is_unsure(self) -> bool:
        """Too little confidence, or too close a second intent, to act on the intent alone."""
        return self.confidence < self.unsure_confidence or self.margin < self.unsure_margin

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
            unsure_confidence=float(data.get("unsure_confidence", 0.45)),
            unsure_margin=float(data.get("unsure_margin", 0.10)),
        )


class Understander(Protocol):
    """Anything that turns a resident's text into a Decision."""

    def understand(self, text: str) -> Decision: ...
