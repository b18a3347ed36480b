"""Staff scoped to a community see only its tickets, callbacks and KPIs on the desk pages."""

from __future__ import annotations

from typing import Any

from communities.directory import Communities
from communities.staff import StaffScopes
from core.db import transaction
from core.models import Ticket
from desk import callbacks
from tests.desk.conftest import Crew, new_ticket


def test_a_scoped_head_sees_only_their_communitys_desk(
        services: Any, crew: Crew, make_staff_client: Any) -> None:
    directory = Communities(services.sessions)
    north, south = directory.add("north", "北苑"), directory.add("south", "南苑")
    mine = new_ticket(services, "保安态度很差", kind="complaint")
    theirs = new_ticket(services, "保安态度很差，不理人", kind="complaint", openid="o_other")
    with transaction(services.sessions) as session:
        for number, community in ((mine, north), (theirs, south)):
            session.query(Ticket).filter_by(number=number).one().community_id = community.id
    for number in (mine, theirs):
        for state in ("accepted", "resolved", "closed"):
            services.deps.tickets.transition(number, state, "staff:li")
    StaffScopes(services.sessions).set(crew.head.id, [north.id])
    StaffScopes(services.sessions).set(crew.agent.id, [north.id])
    head = make_staff_client(crew.head)
    listed = [t["number"] for t in head.get("/console/api/board").get_json()["tickets"]]
    assert listed == [mine]
    assert head.get(f"/console/tickets/{theirs}").status_code == 404
    assert head.get(f"/console/tickets/{mine}").status_code == 200
    agent = make_staff_client(crew.agent)
    page = agent.get("/console/callbacks").text
    assert mine in page and theirs not in page
    [other] = [r for r in callbacks.open_list(services.sessions) if r["ticket"] == theirs]
    agent.form(f"/console/callbacks/{other['id']}", {"reached": "0"})
    assert theirs in [r["ticket"] for r in callbacks.open_list(services.sessions)]
    everyone = make_staff_client(crew.supervisor)
    listed = {t["number"] for t in everyone.get("/console/api/board").get_json()["tickets"]}
    assert listed == {mine, theirs}
