"""The ledger's database: one SQLAlchemy Core schema, the engine factory and Alembic migrations."""
