"""What one batch's database transaction may remember between its transactions.

Reference rows (programs, grant programs, acceptance) are read once per batch instead of once
per transaction. Facts that transactions write (a card remembered at the business) are kept
only once the transaction that wrote them was released, so a refused transaction's rolled-back
writes are never taken for done. The cache belongs to one outer database transaction: used on
another (a retried batch, a second ``engine.begin()``), it starts empty again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy import Connection

from server_stub.catalog import (
    Business,
    GrantProgram,
    Program,
    get_grant_program,
    get_program,
    is_accepted_at,
)


@dataclass
class BatchCache:
    """Per-batch memo of reference rows and of writes already committed to the batch."""

    _owner: object | None = None
    programs: dict[int, Program] = field(default_factory=dict)
    grant_programs: dict[int, GrantProgram] = field(default_factory=dict)
    accepted: dict[tuple[int, str], bool] = field(default_factory=dict)
    remembered: set[tuple[str, str]] = field(default_factory=set)
    pending: set[tuple[str, str]] = field(default_factory=set)
    #: offline points used per limit window (see ``offline_total``), as of the released items
    offline_used: dict[tuple[object, ...], int] = field(default_factory=dict)
    offline_pending: list[tuple[tuple[object, ...], int]] = field(default_factory=list)

    def bind(self, conn: Connection) -> BatchCache:
        """Use the cache inside ``conn``'s current outer transaction (forget everything when
        that is not the transaction it was filled in)."""
        owner = conn.get_transaction()
        if owner is not self._owner:
            self._owner = owner
            self.programs.clear()
            self.grant_programs.clear()
            self.accepted.clear()
            self.remembered.clear()
            self.offline_used.clear()
        self.pending.clear()
        self.offline_pending.clear()
        return self

    def program(self, conn: Connection, program_id: int) -> Program:
        """The point program (UnknownProgramError is never cached)."""
        program = self.programs.get(program_id)
        if program is None:
            program = self.programs[program_id] = get_program(conn, program_id)
        return program

    def grant_program(self, conn: Connection, grant_program_id: int) -> GrantProgram:
        """The grant program (UnknownGrantProgramError is never cached)."""
        found = self.grant_programs.get(grant_program_id)
        if found is None:
            found = self.grant_programs[grant_program_id] = get_grant_program(
                conn, grant_program_id
            )
        return found

    def is_accepted_at(self, conn: Connection, program: Program, business: Business) -> bool:
        """:func:`server_stub.catalog.is_accepted_at`, memoised."""
        key = (program.id, business.id)
        accepted = self.accepted.get(key)
        if accepted is None:
            accepted = self.accepted[key] = is_accepted_at(conn, program, business)
        return accepted

    def offline_total(self, key: tuple[object, ...], query: Callable[[], int]) -> int:
        """Offline points used in one limit window (``key``): queried once per batch, then
        kept current by :meth:`count_offline` as the batch's own uses are released."""
        total = self.offline_used.get(key)
        if total is None:
            total = self.offline_used[key] = query()
        return total

    def count_offline(self, keys: list[tuple[object, ...]], points: int) -> None:
        """The current transaction used ``points`` offline in the windows ``keys``."""
        self.offline_pending.extend((key, points) for key in keys)

    def commit(self) -> None:
        """The current transaction was released: its writes are now the batch's."""
        self.remembered |= self.pending
        self.pending.clear()
        for key, points in self.offline_pending:
            self.offline_used[key] += points
        self.offline_pending.clear()

    def discard(self) -> None:
        """The current transaction was rolled back: forget what it wrote."""
        self.pending.clear()
        self.offline_pending.clear()
