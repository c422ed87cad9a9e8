"""Alembic environment: runs on the URL handed over by ``server_stub.db.migrate``."""

from __future__ import annotations

from alembic import context

from server_stub.db.engine import is_sqlite, make_engine
from server_stub.db.schema import metadata

config = context.config


def run_migrations_online() -> None:
    """Run the migrations against the configured database."""
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no database URL given to the migrations")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            context.configure(
                connection=conn, target_metadata=metadata, render_as_batch=is_sqlite(url)
            )
            with context.begin_transaction():
                context.run_migrations()
            conn.commit()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise RuntimeError("offline (SQL script) migrations are not supported")
run_migrations_online()
