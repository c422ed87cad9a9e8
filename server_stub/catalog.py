"""Reading the ledger's reference data: programs, grant programs, businesses, acceptance."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select

from server_stub.db.schema import (
    businesses,
    grant_programs,
    point_programs,
    program_businesses,
)
from server_stub.errors import (
    UnknownBusinessError,
    UnknownGrantProgramError,
    UnknownProgramError,
)


@dataclass(frozen=True)
class Program:
    """A point program and its rules."""

    id: int
    municipality_code: str
    name: str
    kind: str
    lot_validity_days: int
    voucher_validity_days: int
    voucher_max_points: int
    offline_max_per_transaction: int
    offline_max_per_card_per_day: int
    offline_max_per_terminal_since_sync: int
    offline_max_hours_without_sync: int
    offline_max_revocation_age_hours: int


@dataclass(frozen=True)
class Business:
    """A business (shop, street office, library, facility, department)."""

    id: str
    municipality_code: str
    name: str
    kind: str
    street_id: str | None

    @property
    def street(self) -> str | None:
        """The shopping street this business belongs to (a street is its own street)."""
        return self.id if self.kind == "street" else self.street_id


@dataclass(frozen=True)
class GrantProgram:
    """A grant program (付与事業)."""

    id: int
    program_id: int
    name: str
    department: str
    default_points: int
    category: str


_PROGRAM = select(point_programs).where(point_programs.c.id == bindparam("program_id"))
_BUSINESS = select(businesses).where(businesses.c.id == bindparam("business_id"))


def get_program(conn: Connection, program_id: int) -> Program:
    """The point program, or UnknownProgramError."""
    row = conn.execute(_PROGRAM, {"program_id": program_id}).first()
    if row is None:
        raise UnknownProgramError(f"program {program_id}")
    data = row._asdict()
    data.pop("created_at")
    return Program(**data)


def get_business(conn: Connection, business_id: str) -> Business:
    """The business, or UnknownBusinessError."""
    row = conn.execute(_BUSINESS, {"business_id": business_id}).first()
    if row is None:
        raise UnknownBusinessError(f"business {business_id}")
    return Business(row.id, row.municipality_code, row.name, row.kind, row.street_id)


def get_grant_program(conn: Connection, grant_program_id: int) -> GrantProgram:
    """The grant program, or UnknownGrantProgramError."""
    row = conn.execute(
        select(grant_programs).where(grant_programs.c.id == grant_program_id)
    ).first()
    if row is None:
        raise UnknownGrantProgramError(f"grant program {grant_program_id}")
    return GrantProgram(
        row.id, row.program_id, row.name, row.department, row.default_points, row.category
    )


def is_accepted_at(conn: Connection, program: Program, business: Business) -> bool:
    """Whether ``program``'s points can be used at ``business``: a municipal program at every
    business of its municipality, a special support event only at the businesses it names."""
    if program.kind == "municipal":
        return business.municipality_code == program.municipality_code
    named = conn.execute(
        select(program_businesses.c.business_id).where(
            (program_businesses.c.program_id == program.id)
            & (program_businesses.c.business_id.in_([business.id, business.street or ""]))
        )
    ).first()
    return named is not None


def programs_accepted_at(conn: Connection, business: Business) -> list[Program]:
    """Every program usable at ``business``, by id."""
    ids = conn.execute(select(point_programs.c.id).order_by(point_programs.c.id)).scalars()
    result = []
    for program_id in ids:
        program = get_program(conn, int(program_id))
        if is_accepted_at(conn, program, business):
            result.append(program)
    return result
