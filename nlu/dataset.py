"""The training set: examples and templates in nlu/data plus the demo KB's questions."""

from __future__ import annotations

import random
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from core.yamlfile import load_yaml
from knowledge_base.demo import demo_entries
from knowledge_base.referrals import REFERRAL, referral_entries
from knowledge_base.repository import Faq
from nlu.lexicon import DATA_DIR

INTENTS_DIR = DATA_DIR / "intents"


@dataclass(frozen=True)
class Example:
    text: str
    intent: str
    faq_id: str | None = None
    source: str = ""  # the file (shape of message) it comes from: folds for calibration


def _expand(templates: list[str], slots: dict[str, list[str]], count: int, seed: int) -> list[str]:
    """Draw `count` distinct sentences from templates × slot fillers, reproducibly."""
    rng = random.Random(seed)
    formatter = string.Formatter()
    seen: set[str] = set()
    for _ in range(count * 20):
        if len(seen) >= count:
            break
        template = rng.choice(templates)
        names = [field for _, field, _, _ in formatter.parse(template) if field]
        seen.add(template.format(**{n: rng.choice(slots[n]) for n in names}))
    return sorted(seen)


def _intent_file(path: Path) -> list[Example]:
    data = load_yaml(path)
    intent, source = data["intent"], path.stem
    examples = [Example(str(t), intent, None, source) for t in data.get("examples") or []]
    if data.get("templates"):
        generated = _expand(data["templates"], data["slots"], int(data.get("generate", 50)), 13)
        examples += [Example(t, intent, None, source) for t in generated]
    for faq_id, texts in (data.get("topics") or {}).items():
        examples += [Example(str(t), intent, faq_id, source) for t in texts]
    examples += [Example(str(t), intent, None, source) for t in data.get("unanswerable") or []]
    return examples


def shipped_entries() -> list[Faq]:
    """The demo knowledge base and the referral entries, as shipped in knowledge_base/data."""
    return [Faq(**entry) for entry in (*demo_entries(), *referral_entries())]


def kb_examples(entries: Sequence[Faq] | None = None) -> list[Example]:
    """Every standard and similar question of the knowledge base's enabled entries.

    FAQ entries teach the FAQ model their id (the topic, whichever community's copy).
    Referral entries are matched by their own keywords and questions (nlu/referral.py),
    not learnt: their questions share the FAQ's shapes (…电话多少, …在哪交) and would
    teach the intent model that those shapes are out of scope.
    """
    out = []
    for entry in shipped_entries() if entries is None else entries:
        if not entry.enabled:
            continue
        if entry.category == REFERRAL:
            continue
        for text in [entry.question, *entry.similar_questions]:
            out.append(Example(text, "faq", entry.id, "kb"))
    return out


def training_examples(entries: Sequence[Faq] | None = None) -> list[Example]:
    """The whole training set, deduplicated by text (first label wins).

    `entries`: the live knowledge base (default: the shipped demo and referral files).
    """
    examples: list[Example] = []
    for path in sorted(INTENTS_DIR.glob("*.yaml")):
        examples += _intent_file(path)
    examples += kb_examples(entries)
    seen: set[str] = set()
    unique = []
    for example in examples:
        if example.text not in seen:
            seen.add(example.text)
            unique.append(example)
    return unique
