"""The PostgreSQL fixtures give a real, writable, empty database on loopback."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.postgres


def test_session_database_is_real_postgres_and_writable(postgres_url: str) -> None:
    assert postgres_url.startswith("postgresql+psycopg://")
    assert "@127.0.0.1:" in postgres_url
    engine = sa.create_engine(postgres_url)
    try:
        with engine.begin() as conn:
            version = conn.execute(sa.text("SHOW server_version_num")).scalar_one()
            assert int(version) // 10000 == 15
            conn.execute(sa.text("CREATE TABLE fixture_probe (id int PRIMARY KEY, note text)"))
            conn.execute(sa.text("INSERT INTO fixture_probe VALUES (1, '付与')"))
        with engine.connect() as conn:
            note = conn.execute(sa.text("SELECT note FROM fixture_probe")).scalar_one()
            assert note == "付与"
            conn.execute(sa.text("DROP TABLE fixture_probe"))
            conn.commit()
    finally:
        engine.dispose()


def test_fresh_databases_are_empty_and_separate(fresh_postgres_url: str, postgres_url: str) -> None:
    assert fresh_postgres_url != postgres_url
    engine = sa.create_engine(fresh_postgres_url)
    try:
        with engine.begin() as conn:
            tables = conn.execute(
                sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'")
            ).scalar_one()
            assert tables == 0
            conn.execute(sa.text("CREATE TABLE only_here (id int)"))
    finally:
        engine.dispose()
