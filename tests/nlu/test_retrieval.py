"""FAQ retrieval on its own: ranking, score range, disabled and new entries."""

from __future__ import annotations

from dataclasses import replace

from knowledge_base.repository import Faq
from nlu.retrieval import FaqRetriever


def test_top_k_is_ranked_and_scored_between_zero_and_one(demo_faqs: list[Faq]) -> None:
    hits = FaqRetriever(demo_faqs).search("门禁卡丢了要补办", k=3)
    assert hits[0].faq_id == "access_card_lost"
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert all(0 < h.score <= 1 for h in hits) and len(hits) == 3


def test_an_exact_standard_question_scores_high(demo_faqs: list[Faq]) -> None:
    retriever = FaqRetriever(demo_faqs)
    for faq in demo_faqs:
        assert retriever.search(faq.question, k=1)[0].faq_id == faq.id


def test_words_the_kb_never_uses_keep_the_score_low(demo_faqs: list[Faq]) -> None:
    assert FaqRetriever(demo_faqs).search("量子计算机的原理是什么", k=1)[0].score < 0.2


def test_disabled_entries_are_not_indexed(demo_faqs: list[Faq]) -> None:
    faqs = [replace(f, enabled=False) if f.id == "pets" else f for f in demo_faqs]
    hits = FaqRetriever(faqs).search("小区养狗有什么规定", k=3)
    assert "pets" not in [h.faq_id for h in hits]


def test_a_new_entry_is_found_by_its_similar_questions(demo_faqs: list[Faq]) -> None:
    sauna = Faq(id="sauna", category="配套", question="会所有没有桑拿",
                answer="您好，没有。", similar_questions=["能蒸桑拿吗"], keywords=["桑拿"])
    assert FaqRetriever([*demo_faqs, sauna]).search("小区里能蒸桑拿不", k=1)[0].faq_id == "sauna"


def test_an_empty_knowledge_base_finds_nothing() -> None:
    assert FaqRetriever([]).search("物业费多少钱") == []
