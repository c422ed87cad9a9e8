"""The ledger's HTTP API (FastAPI): terminal endpoints, enrollment, and the admin router."""
