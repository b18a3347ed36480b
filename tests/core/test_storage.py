"""Storage: the same models and migrations on SQLite and PostgreSQL; Redis for real."""

from sqlalchemy import inspect, select

from core.db import make_engine, make_session_factory, transaction
from core.models import Message, Resident
from core.redis import connect_redis


def test_migrations_create_tables_and_round_trip(db_url: str) -> None:
    engine = make_engine(db_url)
    tables = set(inspect(engine).get_table_names())
    assert {"residents", "conversations", "messages", "outbox"} <= tables
    factory = make_session_factory(engine)
    with transaction(factory) as session:
        session.add(Resident(openid="o1"))
        session.add(Message(openid="o1", direction="in", msg_type="text", text="你好",
                            parsed={"Content": "你好"}, dedupe_key="o1:1"))
    with factory() as session:
        msg = session.scalars(select(Message)).one()
        assert msg.parsed == {"Content": "你好"}
        assert msg.created_at.tzinfo is not None
    engine.dispose()


def test_real_redis_and_memory_twin_share_behaviour(redis_url: str) -> None:
    for url in (redis_url, "memory://storage-test"):
        client = connect_redis(url)
        client.delete("k")
        assert client.set("k", "v", nx=True, ex=10)
        assert not client.set("k", "w", nx=True, ex=10)
        assert client.get("k") == "v"
        assert 0 < client.ttl("k") <= 10
        client.delete("k")


def test_a_pooled_connection_killed_while_idle_is_replaced_unseen(
    postgres_admin_url: str,
) -> None:
    """Busy connections are trusted without a ping; idle ones are pinged and replaced."""
    import time

    from sqlalchemy import create_engine, text

    from core.db import PING_AFTER_IDLE_SECONDS, make_engine

    engine = make_engine(postgres_admin_url)
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    time.sleep(PING_AFTER_IDLE_SECONDS + 0.2)
    killer = create_engine(postgres_admin_url)
    with killer.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
    killer.dispose()
    with engine.connect() as conn:  # the dead one is pinged, dropped, replaced
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    engine.dispose()
