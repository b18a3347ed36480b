"""Migration 0008 on a database with data from before communities, SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from core.db import alembic_config, upgrade

BEFORE = ("0002", "0003", "0004")
ROWS = [
    "INSERT INTO households (room_key, room, name, phone) "
    "VALUES ('3-2-502', '3栋2单元502', '张伟', '13800138000')",
    "INSERT INTO bills (room_key, room, period, item, amount, paid) "
    "VALUES ('3-2-502', '3栋2单元502', '2026-Q4', '物业费', 1260, false)",
    "INSERT INTO residents (openid, following, first_seen, last_seen) "
    "VALUES ('o_old', true, '2026-01-01', '2026-01-01')",
    "INSERT INTO room_bindings (openid, room_key, room, household_id, created_at) "
    "VALUES ('o_old', '3-2-502', '3栋2单元502', 1, '2026-01-01')",
    "INSERT INTO tickets (number, openid, type, category, department, priority, state, room, "
    "room_key, summary, fields, photos, phone, wants_callback, callback_needed, "
    "awaiting_rating, urge_count, paused, created_at, updated_at) VALUES ('BX20260101-0001', "
    "'o_old', 'repair', '水路', '工程部', 'P2', 'dispatched', '3栋2单元502', '3-2-502', "
    "'漏水', '{}', '[]', '', false, false, false, 0, false, '2026-01-01', '2026-01-01')",
    "INSERT INTO faq_entries (id, category, question, similar_questions, answer, keywords, "
    "enabled, version, updated_at, updated_by) VALUES ('fee_standard', '物业费', '物业费多少', "
    "'[]', '2.8元', '[]', true, 1, '2026-01-01', 'system')",
]


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database (no migrations applied yet)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    name = f"wuye_old_{uuid.uuid4().hex[:10]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_existing_data_moves_into_the_first_community(empty_url: str) -> None:
    config = alembic_config(empty_url)
    for revision in BEFORE:
        command.upgrade(config, revision)
    engine = create_engine(empty_url)
    with engine.begin() as conn:
        for statement in ROWS:
            conn.execute(text(statement))
    upgrade(empty_url)
    with engine.begin() as conn:
        communities = conn.execute(text("SELECT id, code, name, hotline FROM communities")).all()
        assert [(c.code, c.name, c.hotline) for c in communities] == [
            ("cuihu", "翠湖花园", "0571-88886666")]
        first = communities[0].id
        for table in ("households", "bills", "room_bindings", "tickets"):
            assert conn.execute(text(f"SELECT community_id FROM {table}")).scalars().all() == [
                first], table
        assert conn.execute(text("SELECT community_id FROM residents")).scalar() == first
        # FAQ entries stay company-wide
        assert conn.execute(text("SELECT community_id FROM faq_entries")).scalar() is None
        # the same room may now exist in another community, but not twice in one
        conn.execute(text("INSERT INTO communities (code, name, aliases, address, hotline, "
                          "emergency_phone, weekday_hours, weekend_hours, holidays, "
                          "duty_departments, active, created_at) VALUES ('b', 'B', '[]', '', "
                          "'', '', '09:00-18:00', '09:00-17:30', '', '[]', true, "
                          "'2026-01-01')"))
        other = conn.execute(text("SELECT id FROM communities WHERE code = 'b'")).scalar()
        conn.execute(text("INSERT INTO households (community_id, room_key, room, name, phone) "
                          f"VALUES ({other}, '3-2-502', '3栋2单元502', '某', '13800138000')"))
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("INSERT INTO households (community_id, room_key, room, name, phone) "
                          f"VALUES ({first}, '3-2-502', '3栋2单元502', '某', '13800138000')"))
    engine.dispose()


def test_fresh_install_has_no_community_until_start_up(empty_url: str) -> None:
    upgrade(empty_url)
    engine = create_engine(empty_url)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM communities")).scalar() == 0
    engine.dispose()


def test_downgrade_and_upgrade_again(empty_url: str) -> None:
    upgrade(empty_url)
    command.downgrade(alembic_config(empty_url), "0006")
    upgrade(empty_url)
