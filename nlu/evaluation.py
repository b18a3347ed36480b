"""Scores an understander on labelled JSONL (text, intent, faq_id), side by side with a baseline."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.metrics import f1_score, precision_recall_fscore_support

from nlu.decision import Decision

EMERGENCY = "emergency"
# What a resident reports (a fault, a nuisance, a danger, a grievance, an idea): each
# must reach a ticket flow or an agent, never a can't-answer reply or a refusal.
PROBLEM_REPORTS = frozenset({"repair", "complaint", "emergency", "suggestion"})
TICKET_FLOWS = frozenset({"repair", "complaint", "emergency", "suggestion", "service_request",
                          "human"})
# Confidence thresholds the risk–coverage table is printed at.
RISK_THRESHOLDS = (0.0, 0.3, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 0.9)


@dataclass(frozen=True)
class Row:
    text: str
    intent: str
    faq_id: str | None

    @property
    def must_not_answer(self) -> bool:
        """Out of scope, or a property question the knowledge base does not cover."""
        return self.intent == "out_of_scope" or (self.intent == "faq" and self.faq_id is None)


@dataclass
class Report:
    accuracy: float
    macro_f1: float
    per_intent: dict[str, tuple[float, float, float, int]]
    confused: list[tuple[str, str, int]]
    faq_top1: float
    faq_top3: float
    not_answered: float
    emergency_recall: float
    emergency_precision: float
    reaches_ticket_flow: float
    risk_coverage: list[tuple[float, float, float]]
    p50_ms: float
    p99_ms: float
    per_second: float
    errors: list[tuple[Row, Decision]] = field(default_factory=list)

    def headline(self) -> dict[str, float]:
        return {
            "accuracy": self.accuracy,
            "macro_f1": self.macro_f1,
            "faq_top1": self.faq_top1,
            "faq_top3": self.faq_top3,
            "unanswerable_not_answered": self.not_answered,
            "emergency_recall": self.emergency_recall,
            "emergency_precision": self.emergency_precision,
            "reaches_ticket_flow": self.reaches_ticket_flow,
        }


def read_rows(path: Path) -> list[Row]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            data = json.loads(line)
            rows.append(Row(data["text"], data["intent"], data.get("faq_id")))
    return rows


def _share(hits: Iterable[bool]) -> float:
    values = list(hits)
    return sum(values) / len(values) if values else float("nan")


def correct(row: Row, decision: Decision) -> bool:
    """The intent, and for an answerable question the entry, as labelled."""
    return decision.intent == row.intent and (row.intent != "faq" or decision.faq_id == row.faq_id)


def risk_coverage(
    rows: list[Row], decisions: list[Decision], thresholds: Iterable[float] = RISK_THRESHOLDS
) -> list[tuple[float, float, float]]:
    """Per threshold: (threshold, accuracy of the decisions kept, share kept).

    A decision is kept when its confidence is at or above the threshold; the rest would
    go to a clarifying question or an agent.
    """
    table = []
    for threshold in thresholds:
        kept = [correct(r, d) for r, d in zip(rows, decisions, strict=True)
                if d.confidence >= threshold]
        table.append((threshold, _share(kept), len(kept) / len(rows) if rows else float("nan")))
    return table


def evaluate(understand: Callable[[str], Decision], rows: list[Row]) -> Report:
    """Run every row through `understand`, timing each call."""
    decisions, latencies = [], []
    started = time.perf_counter()
    for row in rows:
        t0 = time.perf_counter()
        decisions.append(understand(row.text))
        latencies.append(time.perf_counter() - t0)
    elapsed = time.perf_counter() - started
    gold = [r.intent for r in rows]
    predicted = [d.intent for d in decisions]
    labels = sorted(set(gold) | set(predicted))
    p, r, f, n = precision_recall_fscore_support(gold, predicted, labels=labels, zero_division=0)
    pairs = Counter((g, q) for g, q in zip(gold, predicted, strict=True) if g != q)
    faq_rows = [(row, d) for row, d in zip(rows, decisions, strict=True) if row.faq_id]
    return Report(
        accuracy=_share(g == q for g, q in zip(gold, predicted, strict=True)),
        macro_f1=float(f1_score(gold, predicted, labels=sorted(set(gold)), average="macro",
                                zero_division=0)),
        per_intent={lab: (p[i], r[i], f[i], int(n[i])) for i, lab in enumerate(labels)},
        confused=[(g, q, c) for (g, q), c in pairs.most_common(5)],
        faq_top1=_share(d.faq_id == row.faq_id for row, d in faq_rows),
        faq_top3=_share(row.faq_id in [c.faq_id for c in d.candidates[:3]] for row, d in faq_rows),
        not_answered=_share(
            d.faq_id is None for row, d in zip(rows, decisions, strict=True) if row.must_not_answer
        ),
        emergency_recall=_share(d.intent == EMERGENCY
                                for row, d in zip(rows, decisions, strict=True)
                                if row.intent == EMERGENCY),
        emergency_precision=_share(row.intent == EMERGENCY
                                   for row, d in zip(rows, decisions, strict=True)
                                   if d.intent == EMERGENCY),
        reaches_ticket_flow=_share(d.intent in TICKET_FLOWS
                                   for row, d in zip(rows, decisions, strict=True)
                                   if row.intent in PROBLEM_REPORTS),
        risk_coverage=risk_coverage(rows, decisions),
        p50_ms=float(np.percentile(latencies, 50) * 1000),
        p99_ms=float(np.percentile(latencies, 99) * 1000),
        per_second=len(rows) / elapsed if elapsed else float("inf"),
        errors=[(row, d) for row, d in zip(rows, decisions, strict=True) if not correct(row, d)],
    )


def format_report(ours: Report, baseline: Report, rows: int) -> str:
    """Every figure with the baseline's beside it."""
    lines = [f"{rows} messages                      ours   baseline"]

    def line(name: str, a: float, b: float, fmt: str = "{:>8.3f}") -> None:
        lines.append(f"{name:<30}{fmt.format(a)} {fmt.format(b)}")

    for name, value in ours.headline().items():
        line(name, value, baseline.headline()[name])
    line("latency p50 (ms)", ours.p50_ms, baseline.p50_ms)
    line("latency p99 (ms)", ours.p99_ms, baseline.p99_ms)
    line("messages/s", ours.per_second, baseline.per_second, "{:>8.0f}")
    lines.append("")
    lines.append(f"{'intent':<18}{'P':>6}{'R':>6}{'F1':>6}{'n':>5}   baseline P / R / F1")
    for intent, (p, r, f, n) in ours.per_intent.items():
        bp, br, bf, _ = baseline.per_intent.get(intent, (0.0, 0.0, 0.0, 0))
        lines.append(
            f"{intent:<18}{p:>6.2f}{r:>6.2f}{f:>6.2f}{n:>5}   {bp:.2f} / {br:.2f} / {bf:.2f}"
        )
    lines.append("")
    lines.append("risk–coverage: accuracy of the decisions kept at confidence ≥ t, share kept")
    lines.append(f"{'t':>6}{'ours acc':>10}{'kept':>7}{'base acc':>10}{'kept':>7}")
    for (t, acc, kept), (_, bacc, bkept) in zip(ours.risk_coverage, baseline.risk_coverage,
                                                strict=True):
        lines.append(f"{t:>6.2f}{acc:>10.3f}{kept:>7.2f}{bacc:>10.3f}{bkept:>7.2f}")
    lines.append("")
    lines.append("most confused (gold → predicted): ours | baseline")
    ours_pairs = [f"{g}→{q} ×{c}" for g, q, c in ours.confused] or ["none"]
    base_pairs = [f"{g}→{q} ×{c}" for g, q, c in baseline.confused] or ["none"]
    lines.append("  ours:     " + ", ".join(ours_pairs))
    lines.append("  baseline: " + ", ".join(base_pairs))
    return "\n".join(lines)
