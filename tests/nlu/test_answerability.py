"""The answerability check: a topic's words are no answer when the ask is elsewhere."""

from __future__ import annotations

from pathlib import Path

from knowledge_base.repository import Faq
from nlu.answerability import Answerability
from nlu.engine import NluEngine
from nlu.model import NluModel
from nlu.normalize import normalize
from nlu.tokenizer import tokens

DATA = Path(__file__).resolve().parent / "data"
UNCOVERED = DATA / "uncovered.txt"
# Written before the check was tuned and never tuned on: an honest estimate, not a floor.
UNCOVERED_CHECK = DATA / "uncovered_check.txt"


def _lines(path: Path) -> list[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _words(text: str) -> list[str]:
    return tokens(normalize(text))


def test_uncovered_property_questions_get_no_answer(engine: NluEngine) -> None:
    """健身房有教练吗 and its like: at least 90% hand over instead of a wrong answer."""
    questions = _lines(UNCOVERED)
    answered = [(q, d.faq_id) for q in questions if (d := engine.understand(q)).faq_id]
    assert 1 - len(answered) / len(questions) >= 0.90, answered


def test_every_entry_still_answers_its_own_questions(
    engine: NluEngine, demo_faqs: list[Faq], referral_faqs: list[Faq]
) -> None:
    """An FAQ entry answers its own questions; a referral entry is given for its own."""

    def got(q: str, referral: bool) -> str | None:
        decision = engine.understand(q)
        return decision.referral if referral else decision.faq_id

    wrong = [
        (q, faq.id, got(q, faq.category == "referral"))
        for faq in demo_faqs + referral_faqs
        for q in [faq.question, *faq.similar_questions]
        if got(q, faq.category == "referral") != faq.id
    ]
    assert not wrong


def test_the_ask_is_what_follows_the_topic(model: NluModel, demo_faqs: list[Faq]) -> None:
    check = Answerability(demo_faqs, model)
    assert check.foreign_ask("clubhouse_hours", _words("健身房有教练吗")) == ["教练"]
    # Time, people and fillers are no ask; a word the entry spells inside a longer one is known.
    assert check.foreign_ask("clubhouse_hours", _words("我想问下 周末健身房几点开门")) == []
    assert check.foreign_ask("decoration_waste", _words("装修垃圾物业帮忙清运吗")) == []  # 清运费


def test_two_foreign_words_refuse_whatever_the_classifier_says(
    model: NluModel, demo_faqs: list[Faq]
) -> None:
    check = Answerability(demo_faqs, model)
    labels = len(model.faq.labels)
    confident = [1 / labels] * labels  # every class alike: "no FAQ" far below its floors
    assert not check.answers("clubhouse_hours", _words("游泳池需要戴泳帽吗"), confident)
    assert check.answers("clubhouse_hours", _words("游泳池几点开"), confident)


def test_an_entry_added_after_training_is_known_by_its_own_words(
    model: NluModel, demo_faqs: list[Faq]
) -> None:
    """Vocabularies come from the index, so a new entry needs no retraining."""
    added = Faq(id="canteen", category="生活", question="小区食堂几点开饭",
                answer="您好，食堂早餐7:00-9:00，午餐11:30-13:00。", keywords=["食堂"])
    check = Answerability([*demo_faqs, added], model)
    assert check.foreign_ask("canteen", _words("食堂午餐几点")) == []
    assert check.foreign_ask("clubhouse_hours", _words("健身房有食堂吗")) == ["食堂"]


def test_the_check_list_is_held_out() -> None:
    from nlu.dataset import training_examples

    trained = {e.text for e in training_examples()}
    assert not [q for q in _lines(UNCOVERED_CHECK) if q in trained]


def test_a_facet_the_entry_never_mentions_refuses(model: NluModel, demo_faqs: list[Faq]) -> None:
    """分期, 转租, 押金: asks no entry answers unless it says so, whatever the classifier says."""
    check = Answerability(demo_faqs, model)
    confident = [1 / len(model.faq.labels)] * len(model.faq.labels)
    assert not check.answers("fee_payment", _words("物业费可以分期交吗"), confident)
    assert not check.answers("parking_monthly", _words("月租的车位能转租吗"), confident)
    assert not check.answers("parking_monthly", _words("产权车位多少钱"), confident)
    # The entry that mentions the facet answers it.
    assert check.answers("decoration_apply", _words("装修押金交多少"), confident)


def test_a_price_or_time_the_entry_never_gives_refuses(
    model: NluModel, demo_faqs: list[Faq]
) -> None:
    """Asking what something costs of an entry that names no price (or when, of one that
    gives no times) is asking what it does not say."""
    check = Answerability(demo_faqs, model)
    confident = [1 / len(model.faq.labels)] * len(model.faq.labels)
    assert not check.answers("pets", _words("办犬证要花多少钱"), confident)
    assert not check.answers("express_parcel", _words("快递柜放久了要收费吗"), confident)
    # Entries that state prices or hours answer them.
    assert check.answers("parking_monthly", _words("月租车位多少钱"), confident)
    assert check.answers("clubhouse_hours", _words("健身房几点开门"), confident)
    assert check.answers("noise_rules", _words("晚上几点以后不能有噪音"), confident)


def test_words_of_the_training_paraphrases_are_known(model: NluModel, demo_faqs: list[Faq]) -> None:
    """A topic's hand-written ways to ask it teach the check its paraphrases (拴绳, 冷气)."""
    from nlu.answerability import GENERIC_WORDS

    check = Answerability(demo_faqs, model)
    entry = next(f for f in demo_faqs if f.id == "pets")
    own = set(_words(" ".join([entry.question, *entry.similar_questions, entry.answer])))
    taught = sorted(w for w in model.faq_words["pets"] - own - GENERIC_WORDS if len(w) > 1)
    assert taught
    assert check.foreign_ask("pets", _words(f"小区里{taught[0]}吗")) == []
