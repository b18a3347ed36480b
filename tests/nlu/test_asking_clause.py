"""The ask is judged in the clause that asks: remarks around a question change nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from knowledge_base.repository import Faq
from nlu.answerability import asking_clauses
from nlu.engine import NluEngine
from nlu.normalize import fold, normalize, normalize_parts
from nlu.tokenizer import tokens

DATA = Path(__file__).resolve().parent / "data"
# What residents add after or before a question: situation, reason, thanks, hurry.
REMARKS = ["刚搬来", "不想跑一趟", "我记一下", "谢谢啦", "急用", "在线等", "新来的不太懂"]


def _words(text: str) -> list[str]:
    return tokens(normalize(text))


def _clauses(text: str) -> list[list[str]]:
    """The asking clauses of a text, judged the way the engine judges them."""
    normalized, view = normalize_parts(fold(text))
    return asking_clauses(tokens(normalized), view)


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_a_remark_after_the_question_is_context() -> None:
    clauses = _clauses("想装防盗窗 不锈钢那种可以吗")
    assert ["".join(c) for c in clauses] == ["不锈钢那种可以吗"]
    clauses = _clauses("物业办公室在哪栋楼啊 刚搬来找不到")
    assert ["".join(c) for c in clauses] == ["物业办公室在哪栋楼啊"]


def test_a_final_particle_ends_a_clause_without_punctuation() -> None:
    clauses = _clauses("物业费能在手机上交吗我不想跑一趟")
    assert ["".join(c) for c in clauses] == ["物业费能在手机上交吗"]


def test_the_speaker_after_a_question_word_starts_a_remark() -> None:
    clauses = _clauses("值班电话多少我家老人一个人住")
    assert ["".join(c) for c in clauses] == ["值班电话多少"]


def test_a_message_without_a_question_marker_is_judged_whole() -> None:
    normalized, view = normalize_parts(fold("门禁卡丢了 补办"))
    words = tokens(normalized)
    assert asking_clauses(words, view) == [words]


def test_a_bare_question_word_asks_about_the_clause_before_it() -> None:
    clauses = _clauses("车位还有卖的吗 多少钱一个")
    assert "".join(clauses[-1]).startswith("车位")


def test_a_question_mark_makes_a_clause_ask() -> None:
    clauses = _clauses("遛狗要牵绳吗 小狗也要？")
    assert len(clauses) == 2


def test_the_clause_view_keeps_the_question_marks_the_models_drop() -> None:
    normalized, view = normalize_parts(fold("遛狗要牵绳吗 小狗也要？"))
    assert "?" not in normalized and view == normalized + "?"
    assert normalize_parts(fold("物业费 怎么交")) == ("物业费 怎么交", "物业费 怎么交")


@pytest.mark.parametrize("remark", REMARKS)
def test_standard_questions_with_a_trailing_remark_are_still_answered(
    engine: NluEngine, demo_faqs: list[Faq], remark: str
) -> None:
    wrong = [
        (faq.question, got)
        for faq in demo_faqs
        if (got := engine.understand(f"{faq.question} {remark}").faq_id) != faq.id
    ]
    assert len(wrong) <= 1, wrong


@pytest.mark.parametrize("remark", REMARKS)
def test_an_uncovered_ask_with_a_trailing_remark_is_still_refused(
    engine: NluEngine, remark: str
) -> None:
    refused = [q for q in _lines(DATA / "uncovered.txt") if engine.understand(q).faq_id is None]
    flipped = [q for q in refused if engine.understand(f"{q} {remark}").faq_id is not None]
    assert len(flipped) <= len(refused) // 10, flipped


@pytest.mark.parametrize(
    "text",
    ["隔壁小区的物业电话多少", "对面那个楼盘物业费多少钱一平", "万科物业的客服热线是几号",
     "你们物业还管着哪些小区啊"],
)
def test_another_communitys_business_gets_no_answer(engine: NluEngine, text: str) -> None:
    assert engine.understand(text).faq_id is None
