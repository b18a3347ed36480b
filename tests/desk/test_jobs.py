"""The desk's jobs as the worker loop calls them: due every desk.job_seconds, each job
isolated; residents' photos are fetched into our storage by the same pass."""

from __future__ import annotations

from typing import Any

from desk import media
from desk.jobs import DeskJobs
from tests.desk.conftest import Crew, new_ticket


def test_the_worker_loop_runs_the_desk_jobs_when_due(services: Any, crew: Crew,
                                                     fake_wechat: Any) -> None:
    fake_wechat.add_media("media_p1", b"\x89PNG\r\n\x1a\nphoto", "image/png")
    number = new_ticket(services, photos=[{"url": "http://x/p1.jpg", "media_id": "media_p1"},
                                          {"url": "http://x/p2.jpg", "media_id": "gone"}])
    jobs = DeskJobs(services)
    first = jobs.tick()
    assert first is not None and first["sla"]["breaches"] == [] and first["photos"] == 1
    assert jobs.tick() is None  # not due again until desk.job_seconds have passed
    ticket_id = _ticket_id(services, number)
    stored = media.photos(services.sessions, ticket_id)
    assert [p["stored"] for p in stored] == [True, False]
    assert "40007" in (stored[1]["error"] or "")  # WeChat's 'invalid media_id', kept for staff


def _ticket_id(services: Any, number: str) -> int:
    from core.models import Ticket

    with services.sessions() as session:
        return session.query(Ticket.id).filter_by(number=number).scalar()
