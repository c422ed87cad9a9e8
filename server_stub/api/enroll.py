"""Terminal enrollment: a one-time operator code plus the terminal's Ed25519 public key."""

from __future__ import annotations

import base64
import logging
import secrets

from cryptography.hazmat.primitives.serialization import Encoding
from fastapi import APIRouter
from sqlalchemy import func, insert, select, update

from server_stub.api.deps import State
from server_stub.api.problem import PROBLEM_RESPONSES
from server_stub.catalog import get_business
from server_stub.clock import as_utc, utc_now
from server_stub.db.schema import enrollment_codes, terminals
from server_stub.errors import AlreadyExistsError, EnrollmentCodeError
from server_stub.operator import hash_enrollment_code
from server_stub.snapshot import public_key_bytes
from sync.protocol import EnrollRequest, EnrollResponse, Role, b64encode

log = logging.getLogger(__name__)

#: Voucher numbers are prefix (6 digits) + sequence (6 digits) + check digit; prefixes are
#: handed out in enrollment order from here, so every voucher number is unique system-wide.
FIRST_VOUCHER_PREFIX = 100_001

router = APIRouter(prefix="/v1", tags=["enrollment"], responses=PROBLEM_RESPONSES)


def _enroll(state: State, request: EnrollRequest) -> EnrollResponse:
    now = utc_now()
    public_key = base64.b64decode(request.public_key)
    voucher_key = (
        None if request.voucher_public_key is None else base64.b64decode(request.voucher_public_key)
    )
    with state.engine.begin() as conn:
        row = conn.execute(
            select(enrollment_codes)
            .where(enrollment_codes.c.code_hash == hash_enrollment_code(request.code))
            .with_for_update()
        ).first()
        if row is None or row.used_at is not None or as_utc(row.expires_at) < now:
            raise EnrollmentCodeError("unknown, used or expired enrollment code")
        taken = conn.execute(
            select(terminals.c.id).where(terminals.c.public_key == public_key)
        ).first()
        if taken is not None:
            raise AlreadyExistsError("this public key is already enrolled")
        terminal_id = "T" + secrets.token_hex(8).upper()
        last_prefix = conn.execute(select(func.max(terminals.c.voucher_prefix))).scalar()
        voucher_prefix = max(int(last_prefix or 0), FIRST_VOUCHER_PREFIX - 1) + 1
        conn.execute(
            insert(terminals).values(
                id=terminal_id,
                business_id=row.business_id,
                public_key=public_key,
                voucher_public_key=voucher_key,
                roles=row.roles,
                name=request.name,
                status="active",
                enrolled_at=now,
                voucher_prefix=voucher_prefix,
            )
        )
        conn.execute(
            update(enrollment_codes)
            .where(enrollment_codes.c.code_hash == row.code_hash)
            .values(used_at=now, terminal_id=terminal_id)
        )
        business = get_business(conn, row.business_id)
    log.info("terminal %s enrolled for %s", terminal_id, business.id)
    return EnrollResponse(
        terminal_id=terminal_id,
        business_id=business.id,
        street_id=business.street,
        roles=[Role(r) for r in str(row.roles).split(",")],
        server_public_key=b64encode(public_key_bytes(state.signing_key)),
        voucher_prefix=voucher_prefix,
        trust_anchors=[
            anchor.public_bytes(Encoding.PEM).decode("ascii")
            for anchor in (state.trust.anchors if state.trust is not None else [])
        ],
    )


@router.post("/enroll", response_model=EnrollResponse, summary="Enroll a terminal (端末登録)")
def enroll(request: EnrollRequest, state: State) -> EnrollResponse:
    """Exchange a one-time enrollment code and the terminal's public key for its terminal ID."""
    return _enroll(state, request)
