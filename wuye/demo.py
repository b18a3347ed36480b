"""`wuye serve --demo`: two communities, their households, bills and own FAQ answers.

翠湖花园 is the configured first community with the demo roster of
handlers/data; the second (蓝湾雅苑) comes from communities/data/demo.yaml with
other fees, hours, phones and households. Loading twice changes nothing.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from communities import context
from communities.directory import Communities, CommunityInfo
from core.config import Config
from core.yamlfile import load_yaml
from handlers.tickets.demo import load_demo_households
from handlers.tickets.households import Households, import_bills, import_roster
from handlers.tickets.rooms import parse_room
from knowledge_base.demo import load_demo_if_empty
from knowledge_base.overrides import CommunityKnowledge
from knowledge_base.repository import FaqRepository

DATA_DIR = Path(__file__).resolve().parent.parent / "communities" / "data"
DEMO_FILE = DATA_DIR / "demo.yaml"
FACTS = ("name", "hotline", "emergency_phone", "weekday_hours", "weekend_hours", "holidays",
         "address", "aliases", "duty_departments")
_FOLD_SPACE = re.compile(r"(?<=[^\x00-\x7f])\s+|\s+(?=[^\x00-\x7f])")


def _demo_data() -> dict[str, Any]:
    return dict(load_yaml(DEMO_FILE))


def demo_communities() -> list[dict[str, Any]]:
    return list(_demo_data()["communities"])


def bind_demo_personas(sessions: sessionmaker[Session]) -> list[dict[str, str]]:
    """Bind the simulator's demo residents to their homes; returns {openid, label}."""
    directory, homes = Communities(sessions), Households(sessions)
    personas = []
    for persona in _demo_data().get("personas") or []:
        for code, room_text, last4 in persona.get("homes") or []:
            community, room = directory.by_code(code), parse_room(room_text)
            if community is None or room is None:
                continue
            with context.serving(community):
                homes.bind(persona["openid"], room, homes.verify(room, last4))
        personas.append({"openid": persona["openid"], "label": persona["label"]})
    return personas


def load_demo_communities(sessions: sessionmaker[Session], config: Config) -> list[CommunityInfo]:
    """Both demo communities with households, bills and FAQ overrides; returns them."""
    directory = Communities(sessions)
    first = directory.ensure_first(config.service, config.handoff)
    load_demo_if_empty(sessions)
    load_demo_households(sessions, first.id)
    loaded = []
    for item in demo_communities():
        community = _community(directory, item)
        if community is None:
            continue
        for key, importer in (("roster", import_roster), ("bills", import_bills)):
            if item.get(key):
                importer(sessions, DATA_DIR / item[key], community.id)
        _overrides(sessions, community, item.get("overrides") or {})
        _own_topics(sessions, community, item.get("own_topics") or [])
        loaded.append(community)
    return loaded


def _community(directory: Communities, item: dict[str, Any]) -> CommunityInfo | None:
    facts = {key: item[key] for key in FACTS if key in item}
    found = directory.by_code(item["code"])
    if found is None:
        if "name" not in facts:
            return None  # completes the configured first community, which has another code
        return directory.add(item["code"], **facts)
    return directory.update(item["code"], **facts)


def _overrides(sessions: sessionmaker[Session], community: CommunityInfo,
               answers: dict[str, str]) -> None:
    knowledge = CommunityKnowledge(sessions)
    for faq_id, answer in answers.items():
        text = _FOLD_SPACE.sub("", answer.strip())
        existing = knowledge.override(faq_id, community.id)
        if existing is None or existing.answer != text:
            knowledge.save_override(faq_id, community.id, text, updated_by="demo")


def _own_topics(sessions: sessionmaker[Session], community: CommunityInfo,
                topics: list[str]) -> None:
    entries = FaqRepository(sessions)
    for faq_id in topics:
        entry = entries.get(faq_id)
        if entry is not None and entry.community_id != community.id:
            entries.save(id=entry.id, question=entry.question, answer=entry.answer,
                         category=entry.category, similar_questions=entry.similar_questions,
                         keywords=entry.keywords, enabled=entry.enabled,
                         updated_by="demo", community_id=community.id)
