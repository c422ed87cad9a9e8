"""Deterministic simulation of many terminals and one ledger, with injected faults.

One process, one seed: every decision comes from ``random.Random(seed)`` and a simulated clock
that only the simulator moves. The terminals are real (their SQLite stores, counter use cases and
sync engine), the ledger is the real app over SQLite reached through FastAPI's test client, and
the cards are virtual JPKI cards. Faults are injected between and inside the steps; after every
run the invariants are checked (:mod:`sim.invariants`). Run ``python -m sim --seeds N``.
"""
