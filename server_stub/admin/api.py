"""The operator HTTP API under ``/v1/admin``: reports and admin actions, operator key required.

Every route depends on ``require_operator`` (the ``X-Operator-Key`` header); without the key the
answer is 401 problem+json. Write actions run in one transaction each and call the same
``server_stub.operator`` functions as the command line.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from server_stub import operator
from server_stub.admin import imports
from server_stub.admin.errors import AdminError, CsvImportError
from server_stub.api.deps import State, require_operator
from server_stub.api.problem import PROBLEM_RESPONSES, problem_response
from server_stub.clock import jst_date, utc_now
from server_stub.errors import InvalidInputError
from server_stub.reports import queries
from server_stub.reports.output import Report
from server_stub.reports.period import Month, months
from sync.protocol import MAX_ID, NO_NUL_TEXT, Role

log = logging.getLogger(__name__)

router = APIRouter(
    prefix="/v1/admin",
    tags=["admin"],
    dependencies=[Depends(require_operator)],
    responses=PROBLEM_RESPONSES,
)

ReportFormat = Literal["json", "csv"]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MunicipalityIn(_Body):
    """A municipality to register."""

    code: str = Field(pattern=r"^[0-9]{6}$", description="6 digits with check digit")
    name: str = Field(min_length=1, max_length=100, pattern=NO_NUL_TEXT)


class ProgramIn(_Body):
    """A point program to create."""

    municipality_code: str = Field(pattern=r"^[0-9]{6}$")
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL_TEXT)
    kind: Literal["municipal", "special_event"] = "municipal"
    lot_validity_days: int = Field(default=100, ge=1, le=3650)
    voucher_validity_days: int = Field(default=3, ge=1, le=366)
    voucher_max_points: int = Field(default=10_000, ge=1, le=10_000_000)
    accepted_business_ids: list[str] = Field(default_factory=list, max_length=1000)


class GrantProgramIn(_Body):
    """A grant program (付与事業) to create."""

    program_id: int = Field(ge=1, le=MAX_ID)
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL_TEXT)
    department: str = Field(min_length=1, max_length=200, pattern=NO_NUL_TEXT)
    default_points: int = Field(ge=1, le=10_000_000)
    category: Literal["ordinary", "premium"] = "ordinary"


class BusinessIn(_Body):
    """A business to register."""

    id: str = Field(pattern=r"^[A-Za-z0-9]{1,16}$")
    municipality_code: str = Field(pattern=r"^[0-9]{6}$")
    name: str = Field(min_length=1, max_length=200, pattern=NO_NUL_TEXT)
    kind: Literal["shop", "street", "library", "facility", "department"]
    street_id: str | None = Field(default=None, max_length=16, pattern=NO_NUL_TEXT)


class EnrollmentCodeIn(_Body):
    """Which business and roles a new terminal will have."""

    business_id: str = Field(pattern=r"^[A-Za-z0-9]{1,16}$")
    roles: list[Role] = Field(min_length=1, max_length=4)


class EnrollmentCodeOut(BaseModel):
    """A one-time enrollment code (shown once)."""

    code: str
    business_id: str
    roles: list[Role]
    expires_at: datetime


class Created(BaseModel):
    """The identifier of what was created."""

    id: str


class ImportOut(BaseModel):
    """What an import applied."""

    rows: int
    points: int


class ExpiryIn(_Body):
    """Run expiry as of a JST date (default today)."""

    as_of: date | None = None


class ExpiryOut(BaseModel):
    """What an expiry run did."""

    as_of: date
    lots_expired: int
    points_expired: int
    vouchers_voided: int
    points_returned: int


# --- reports ------------------------------------------------------------------------------------


def _period(month: str, to_month: str | None) -> tuple[Month, Month]:
    try:
        first = Month.parse(month)
        last = Month.parse(to_month) if to_month else first
        months(first, last)
    except ValueError as error:
        raise InvalidInputError(str(error)) from None
    return first, last


def _report_response(report: Report, fmt: ReportFormat) -> Response:
    data = report.render(fmt).encode("utf-8")
    if fmt == "csv":
        return Response(
            data,
            media_type=CSV_MEDIA_TYPE,
            headers={"Content-Disposition": f'attachment; filename="{report.title}.csv"'},
        )
    return Response(data, media_type="application/json")


MonthQuery = Annotated[str, Query(pattern=r"^\d{4}-\d{1,2}$", description="YYYY-MM (JST)")]
ToMonthQuery = Annotated[str | None, Query(pattern=r"^\d{4}-\d{1,2}$")]
FormatQuery = Annotated[ReportFormat, Query(alias="format")]


@router.get("/reports/issuance", summary="Monthly issuance by department and grant program")
def issuance_report(
    state: State, month: MonthQuery, to_month: ToMonthQuery = None, fmt: FormatQuery = "json"
) -> Response:
    """付与実績: points granted per JST month, department and grant program (通常/プレミアム)."""
    first, last = _period(month, to_month)
    with state.engine.connect() as conn:
        return _report_response(queries.issuance(conn, first, last), fmt)


@router.get("/reports/settlement", summary="Settlement per business per month")
def settlement_report(
    state: State,
    month: MonthQuery,
    to_month: ToMonthQuery = None,
    business_id: Annotated[str | None, Query(max_length=16)] = None,
    fmt: FormatQuery = "json",
) -> Response:
    """精算: uses and voucher redemptions per business, JST month and program."""
    first, last = _period(month, to_month)
    with state.engine.connect() as conn:
        return _report_response(queries.settlement(conn, first, last, business_id), fmt)


@router.get("/reports/history/{mykey_id}", summary="A resident's history (my page)")
def history_report(
    state: State,
    mykey_id: Annotated[str, Path(min_length=1, max_length=16)],
    program_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    fmt: FormatQuery = "json",
) -> Response:
    """利用履歴: date, kind (付与/利用/失効/合算), program, grant or place, points, balance."""
    with state.engine.connect() as conn:
        return _report_response(queries.history(conn, mykey_id, program_id), fmt)


@router.get("/reports/terminals", summary="Every terminal: last sync, offline acceptances")
def terminals_report(state: State, fmt: FormatQuery = "json") -> Response:
    """端末一覧: status, last request and sync, offline acceptances, refusals, conflicts."""
    with state.engine.connect() as conn:
        return _report_response(queries.terminals_report(conn), fmt)


# --- admin actions ------------------------------------------------------------------------------


@router.post("/municipalities", status_code=201, response_model=Created)
def add_municipality(state: State, body: MunicipalityIn) -> Created:
    """Register a municipality (check digit validated)."""
    with state.engine.begin() as conn:
        return Created(id=operator.create_municipality(conn, body.code, body.name))


@router.post("/programs", status_code=201, response_model=Created)
def add_program(state: State, body: ProgramIn) -> Created:
    """Create a point program (default offline limits)."""
    with state.engine.begin() as conn:
        program_id = operator.create_point_program(
            conn,
            body.municipality_code,
            body.name,
            kind=body.kind,
            lot_validity_days=body.lot_validity_days,
            voucher_validity_days=body.voucher_validity_days,
            voucher_max_points=body.voucher_max_points,
            accepted_business_ids=body.accepted_business_ids,
        )
    return Created(id=str(program_id))


@router.post("/grant-programs", status_code=201, response_model=Created)
def add_grant_program(state: State, body: GrantProgramIn) -> Created:
    """Create a grant program (付与事業)."""
    with state.engine.begin() as conn:
        grant_id = operator.create_grant_program(
            conn,
            body.program_id,
            body.name,
            body.department,
            body.default_points,
            category=body.category,
        )
    return Created(id=str(grant_id))


@router.post("/businesses", status_code=201, response_model=Created)
def add_business(state: State, body: BusinessIn) -> Created:
    """Register a business; shops may name their shopping street."""
    with state.engine.begin() as conn:
        operator.create_business(
            conn, body.id, body.municipality_code, body.name, body.kind, street_id=body.street_id
        )
    return Created(id=body.id)


@router.post("/enrollment-codes", status_code=201, response_model=EnrollmentCodeOut)
def add_enrollment_code(state: State, body: EnrollmentCodeIn) -> EnrollmentCodeOut:
    """A one-time code enrolling one terminal (valid 24 h; only its hash is stored)."""
    with state.engine.begin() as conn:
        code = operator.create_enrollment_code(
            conn, body.business_id, [r.value for r in body.roles]
        )
    return EnrollmentCodeOut(
        code=code.code, business_id=code.business_id, roles=code.roles, expires_at=code.expires_at
    )


@router.post("/terminals/{terminal_id}/revoke", status_code=204)
def revoke_terminal(state: State, terminal_id: str) -> Response:
    """Revoke a terminal: every later request it signs is refused."""
    with state.engine.begin() as conn:
        operator.revoke_terminal(conn, terminal_id)
    return Response(status_code=204)


CsvBody = Annotated[bytes, Body(media_type="text/csv", description="CSV, UTF-8 (BOM allowed)")]


def _csv_problem(error: AdminError) -> JSONResponse:
    rows = (
        [{"line": e.line, "message": e.message} for e in error.errors]
        if isinstance(error, CsvImportError)
        else []
    )
    return problem_response(
        422,
        "csv-invalid",
        "CSV に誤りがあるため何も取り込んでいません。",
        "Nothing was imported: the CSV has errors.",
        str(error),
        {"errors": rows},
    )


@router.post("/grants/import", response_model=ImportOut)
def import_grants(
    state: State,
    body: CsvBody,
    grant_program_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> Response:
    """Bulk grants (ポイントアップロード) from CSV: all rows or none (see the CLI help)."""
    try:
        with state.engine.begin() as conn:
            result = imports.import_grants(conn, body, grant_program_id=grant_program_id)
    except AdminError as error:
        return _csv_problem(error)
    return JSONResponse({"rows": result.rows, "points": result.points})


@router.post("/service-ids/import", response_model=ImportOut)
def import_service_ids(
    state: State,
    body: CsvBody,
    business_id: Annotated[str | None, Query(max_length=16)] = None,
) -> Response:
    """Bulk service-ID links from CSV: all rows or none."""
    try:
        with state.engine.begin() as conn:
            result = imports.import_service_ids(conn, body, business_id=business_id)
    except AdminError as error:
        return _csv_problem(error)
    return JSONResponse({"rows": result.rows, "points": 0})


@router.post("/expiry", response_model=ExpiryOut)
def run_expiry(state: State, body: ExpiryIn) -> ExpiryOut:
    """Expire lots and void vouchers that ended before ``as_of`` (JST; default today)."""
    as_of = body.as_of or jst_date(utc_now())
    with state.engine.begin() as conn:
        report = operator.run_expiry(conn, as_of)
    return ExpiryOut(
        as_of=report.as_of,
        lots_expired=report.lots_expired,
        points_expired=report.points_expired,
        vouchers_voided=report.vouchers_voided,
        points_returned=report.points_returned,
    )
