"""The NLU's figures with two communities loaded: the same as with one.

The NLU decides by topic over the company-wide entries; a second community's
overrides and a community-only topic (demo: 蓝湾雅苑's answers, 翠湖花园's office
tower) change the text a resident reads, never the decision. Here the served
understander (over a database holding both communities) is scored on the same
sets as the floors, and must give the same decision on every line.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from core.db import make_engine, make_session_factory
from knowledge_base.repository import FaqRepository
from nlu.engine import NluEngine
from nlu.evaluation import evaluate, read_rows
from nlu.live import LiveUnderstander
from tests.conftest import make_config
from tests.nlu.conftest import SAMPLE
from tests.nlu.test_dev_set import HELD_OUT, KNOWN_GAPS
from tests.nlu.test_sample_floors import FLOORS
from wuye.demo import load_demo_communities
from wuye.understanding import thresholds

SETS = [*HELD_OUT, *([SAMPLE] if SAMPLE.is_file() else [])]


@pytest.fixture(scope="module")
def two_community_sessions(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory,
                           ) -> sessionmaker[Session]:
    import shutil

    target = tmp_path_factory.mktemp("two-communities") / "wuye.db"
    shutil.copy(sqlite_template, target)
    sessions = make_session_factory(make_engine(f"sqlite:///{target}"))
    loaded = load_demo_communities(sessions, make_config(target.parent))
    assert [c.code for c in loaded] == ["cuihu", "lanwan"]
    return sessions


@pytest.fixture(scope="module")
def served(trained_model_dir: Path, two_community_sessions: sessionmaker[Session],
           ) -> LiveUnderstander:
    config = make_config(trained_model_dir)
    return LiveUnderstander(trained_model_dir, FaqRepository(two_community_sessions),
                            thresholds(config.nlu))


def test_the_nlu_sees_the_same_topics(two_community_sessions: sessionmaker[Session],
                                      engine: NluEngine) -> None:
    from knowledge_base.overrides import CommunityKnowledge

    assert CommunityKnowledge(two_community_sessions).overrides(), "overrides are loaded"
    served_ids = [f.id for f in FaqRepository(two_community_sessions).list(enabled_only=True)]
    assert served_ids == sorted(f.id for f in engine.retriever.entries)


@pytest.mark.parametrize("path", SETS, ids=[p.name for p in SETS])
def test_same_decisions_and_floors_with_two_communities(
        served: LiveUnderstander, engine: NluEngine, path: Path) -> None:
    rows = read_rows(path)
    differing = [row.text for row in rows
                 if (d := served.understand(row.text)).intent != (e := engine.understand(
                     row.text)).intent or d.faq_id != e.faq_id]
    assert not differing
    figures = evaluate(served.understand, rows).headline()
    for metric, floor in FLOORS.items():
        floor = min(floor, KNOWN_GAPS.get((path.name, metric), floor))
        assert figures[metric] >= floor, f"{path.name} {metric} = {figures[metric]:.3f}"


@pytest.mark.parametrize("prefix", ["我是蓝湾雅苑的，", "蓝湾雅苑", "我住蓝湾 ", "翠湖花园业主，",
                                    "我家在翠湖小区，"])
def test_saying_where_one_lives_does_not_change_the_decision(
        two_community_sessions: sessionmaker[Session], engine: NluEngine, prefix: str) -> None:
    """The engine leaves "I live in <community>" out before the NLU (the community route
    reads it); what remains is decided as if it had not been said."""
    from communities.directory import Communities

    directory = Communities(two_community_sessions)
    rows = [r for r in read_rows(HELD_OUT[0]) if r.intent == "faq" and r.faq_id]
    changed = [r.text for r in rows
               if (engine.understand(directory.without_mentions(prefix + r.text)).faq_id
                   != engine.understand(r.text).faq_id)]
    assert not changed
    assert directory.without_mentions("翠湖中心晚上空调怎么申请") == "翠湖中心晚上空调怎么申请"
