"""The small cloud ledger server: FastAPI + SQLAlchemy Core on SQLite or PostgreSQL."""
