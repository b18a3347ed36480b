"""Demo mode: two communities loaded once, the simulator offers residents to play."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import select

from core.models.console import CannedReply
from knowledge_base.overrides import CommunityKnowledge
from tests.admin.conftest import Staff
from tests.communities.conftest import LANWAN, TWO_HOMES
from wuye.demo import bind_demo_personas, load_demo_communities


def test_loading_twice_changes_nothing(services: Any) -> None:
    first = load_demo_communities(services.sessions, services.config)
    versions = {(o.faq_id, o.community_id): o.version
                for o in CommunityKnowledge(services.sessions).overrides()}
    again = load_demo_communities(services.sessions, services.config)
    assert first == again and [c.name for c in again] == ["翠湖花园", "蓝湾雅苑"]
    assert versions == {(o.faq_id, o.community_id): o.version
                        for o in CommunityKnowledge(services.sessions).overrides()}
    assert bind_demo_personas(services.sessions) == bind_demo_personas(services.sessions)


def test_simulator_offers_demo_residents(services: Any) -> None:
    from wuye.app import create_app

    config = dataclasses.replace(services.config,
                                 server=dataclasses.replace(services.config.server, demo=True))
    app = create_app(config, services=services, background=False)
    page = app.test_client().get("/simulator").text
    assert f'value="{LANWAN}"' in page and f'value="{TWO_HOMES}"' in page
    assert "未绑定的新用户" in page and "蓝湾雅苑 2栋1单元301" in page


def test_canned_replies_of_other_communities_are_not_offered(
        services: Any, make_staff: Any, two: dict[str, Any]) -> None:
    from communities.staff import StaffScopes

    with services.sessions() as session, session.begin():
        session.add(CannedReply(shortcut="/翠湖停车", text="翠湖花园停车场入口在东门。",
                                community_id=two["cuihu"].id))
        general = session.scalars(select(CannedReply.shortcut)).all()
    agent: Staff = make_staff("lanwan9")
    StaffScopes(services.sessions).set(agent.user.id, [two["lanwan"].id])
    offered = {c["shortcut"] for c in agent.get("/console/api/canned").json["canned"]}
    assert "/翠湖停车" not in offered and offered == set(general) - {"/翠湖停车"}
    company = make_staff("company9")
    assert "/翠湖停车" in {c["shortcut"] for c in company.get("/console/api/canned").json["canned"]}
