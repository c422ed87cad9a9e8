"""Alembic migrations of the ledger schema (run programmatically by ``server_stub.db.migrate``)."""
