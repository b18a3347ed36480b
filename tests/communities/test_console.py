"""Staff scoped to communities: the queue, conversations, tickets and KPIs they see."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from admin import kpi
from communities.directory import CommunityInfo
from communities.staff import StaffScopes
from tests.admin.conftest import Staff
from tests.communities.conftest import CUIHU, LANWAN


def scoped(make_staff: Callable[..., Staff], services: Any, name: str,
           *communities: CommunityInfo, role: str = "agent") -> Staff:
    staff = make_staff(name, role)
    StaffScopes(services.sessions).set(staff.user.id, [c.id for c in communities])
    return staff


def both_ask_for_a_person(pusher: Any) -> None:
    for openid in (CUIHU, LANWAN):
        assert "人工客服" in pusher.text(openid, "转人工").text


def test_scoped_agent_sees_only_their_communitys_queue(
        pusher: Any, services: Any, make_staff: Callable[..., Staff],
        two: dict[str, CommunityInfo]) -> None:
    both_ask_for_a_person(pusher)
    lanwan_agent = scoped(make_staff, services, "lanwan1", two["lanwan"])
    company_agent = make_staff("company1")
    waiting = lanwan_agent.get("/console/api/queue").json["waiting"]
    assert [(i["openid"], i["community_name"]) for i in waiting] == [(LANWAN, "蓝湾雅苑")]
    assert {i["openid"] for i in company_agent.get("/console/api/queue").json["waiting"]} == {
        CUIHU, LANWAN}


def test_scoped_agent_cannot_open_or_take_another_communitys_conversation(
        pusher: Any, services: Any, make_staff: Callable[..., Staff],
        two: dict[str, CommunityInfo]) -> None:
    both_ask_for_a_person(pusher)
    agent = scoped(make_staff, services, "lanwan2", two["lanwan"])
    assert agent.get(f"/console/api/conversations/{LANWAN}").status_code == 200
    refused = agent.get(f"/console/api/conversations/{CUIHU}")
    assert refused.status_code == 403 and refused.json["error"] == "out_of_scope"
    assert agent.post(f"/console/api/conversations/{CUIHU}/take").status_code == 403
    assert services.states.load(CUIHU).owner == "waiting"
    assert agent.post(f"/console/api/conversations/{LANWAN}/take").status_code == 200


def test_scoped_agent_lists_only_their_communitys_tickets(
        pusher: Any, services: Any, make_staff: Callable[..., Staff],
        two: dict[str, CommunityInfo]) -> None:
    pusher.text(CUIHU, "电梯困人了 快来人")
    pusher.text(LANWAN, "电梯困人了 快来人")
    agent = scoped(make_staff, services, "lanwan3", two["lanwan"])
    listed = agent.get("/console/api/tickets").json["tickets"]
    assert [t["openid"] for t in listed] == [LANWAN]
    assert {t["community_id"] for t in listed} == {two["lanwan"].id}
    every = make_staff("boss2", "admin").get("/console/api/tickets").json["tickets"]
    assert {t["openid"] for t in every} == {CUIHU, LANWAN}
    other = next(t for t in every if t["openid"] == CUIHU)
    moved = agent.post(f"/console/api/tickets/{other['number']}/state",
                       {"state": "accepted", "note": ""})
    assert moved.status_code == 403
    views = services.deps.tickets.list_tickets(communities={two["cuihu"].id})
    assert [v.openid for v in views] == [CUIHU]


def test_kpis_are_counted_per_community(
        pusher: Any, services: Any, make_staff: Callable[..., Staff],
        two: dict[str, CommunityInfo]) -> None:
    both_ask_for_a_person(pusher)
    pusher.text("o_third_lanwan", "我是蓝湾雅苑的业主，转人工")
    lanwan = kpi.compute(services.sessions, 30, frozenset({two["lanwan"].id}))
    cuihu = kpi.compute(services.sessions, 30, frozenset({two["cuihu"].id}))
    everyone = kpi.compute(services.sessions, 30)
    assert (lanwan.handovers, cuihu.handovers, everyone.handovers) == (2, 1, 3)
    assert lanwan.conversations == 2 and cuihu.conversations == 1
    admin = scoped(make_staff, services, "lanwanboss", two["lanwan"], role="admin")
    page = admin.get("/admin/kpi").text
    assert "转人工 2 /" in page


def test_company_admin_scopes_a_user_on_the_users_page(
        services: Any, make_staff: Callable[..., Staff], two: dict[str, CommunityInfo]) -> None:
    boss = make_staff("boss3", "admin")
    agent = make_staff("agent3")
    response = boss.form(f"/admin/users/{agent.user.id}/communities",
                         {"community": str(two["lanwan"].id)})
    assert response.status_code == 302
    scopes = StaffScopes(services.sessions)
    assert scopes.of(agent.user.id) == {two["lanwan"].id}
    assert "蓝湾雅苑" in boss.get("/admin/users").text
    local_boss = scoped(make_staff, services, "boss4", two["cuihu"], role="admin")
    local_boss.form(f"/admin/users/{agent.user.id}/communities", {})
    assert scopes.of(agent.user.id) == {two["lanwan"].id}  # only a company admin may
    boss.form(f"/admin/users/{agent.user.id}/communities", {})
    assert scopes.of(agent.user.id) is None


def test_scoped_agents_live_stream_carries_only_their_communitys_events(
        pusher: Any, services: Any, make_staff: Callable[..., Staff],
        two: dict[str, CommunityInfo]) -> None:
    from tests.admin.test_stream import data_events

    agent = scoped(make_staff, services, "lanwan5", two["lanwan"])
    stream = agent.client.get("/console/api/events", buffered=False)
    chunks = iter(stream.response)
    assert ": ready" in next(chunks).decode()
    pusher.text(CUIHU, "转人工")  # not theirs: never on their stream
    pusher.text(LANWAN, "转人工")
    [event] = data_events(chunks, 1)
    assert (event["type"], event["openid"]) == ("handover", LANWAN)
    stream.close()
