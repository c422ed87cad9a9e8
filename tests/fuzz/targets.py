"""Fuzz targets shared by the hypothesis tests (CI) and the atheris runner (evidence).

Each target takes raw bytes, feeds them to one parser the outside world can reach, and lets
only that parser's typed errors through: anything else escapes as :class:`UntypedError`, which
is what a fuzzer reports. Corpus helpers give well-formed inputs to mutate, so mutations reach
deep into each format rather than dying at the first byte.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.utils import CryptographyDeprecationWarning
from sqlalchemy import Engine

from cardio.apdu import ApduChannel, Command, Response
from cardio.auth import TrustStore, check_certificate
from cardio.errors import CardError
from cardio.jpki import JpkiSession, der_length
from cardio.secrets import Pin
from server_stub import cards
from server_stub.admin import imports
from server_stub.admin.csvio import parse_csv
from server_stub.admin.errors import AdminError
from server_stub.errors import LedgerError
from terminal.vouchers.errors import VoucherFormatError
from terminal.vouchers.payload import VoucherData, decode_payload, encode_payload


class UntypedError(AssertionError):
    """A parser let an error through that is not one of its typed errors."""


def _only(allowed: tuple[type[BaseException], ...], call: Callable[[], object]) -> None:
    try:
        call()
    except allowed:
        pass
    except Exception as error:  # the finding: anything else
        raise UntypedError(f"{type(error).__name__}: {error}") from error


# --- APDU responses ----------------------------------------------------------------------------


class ScriptedCard:
    """A ``Connection`` that answers each APDU with the next scripted response (then 6A82)."""

    reader = "fuzz"

    def __init__(self, answers: list[bytes]) -> None:
        self.answers = answers
        self.sent = 0

    def transmit(self, apdu: bytes) -> bytes:
        self.sent += 1
        if self.sent > 200:
            raise AssertionError("the APDU layer never stopped sending")
        return self.answers.pop(0) if self.answers else b"\x6a\x82"

    def close(self) -> None:
        """Nothing to release."""


def split_answers(data: bytes) -> list[bytes]:
    """Length-prefixed card answers: one length byte, then that many bytes, repeated."""
    answers, i = [], 0
    while i < len(data):
        size = data[i]
        answers.append(data[i + 1 : i + 1 + size])
        i += 1 + size
    return answers


def apdu_responses(data: bytes) -> None:
    """Scripted card answers through the APDU channel and every JPKI session call."""
    _only((CardError,), lambda: Response.from_bytes(data))
    _only((CardError,), lambda: der_length(data[:6]))
    calls: list[Callable[[JpkiSession], object]] = [
        lambda s: s.select_ap(),
        lambda s: s.read_auth_certificate(),
        lambda s: s.check_label(),
        lambda s: s.pin_tries_left(),
        lambda s: s.verify_pin(Pin("1234")),
        lambda s: s.sign(b"\x30" * 51),
        lambda s: ApduChannel(ScriptedCard(split_answers(data))).send(
            Command(0, 0xB0, 0, 0, le=256)
        ),
    ]
    for call in calls:
        session = JpkiSession(ScriptedCard(split_answers(data)))
        _only((CardError,), functools.partial(call, session))


# --- certificates ------------------------------------------------------------------------------


class CertificateIntake:
    """A trust store (the test CA's) to check arbitrary DER against, in cardio and the server."""

    def __init__(self, trust_dir: Path) -> None:
        self.trust = TrustStore.from_directory(trust_dir)
        self.at = datetime.now(UTC) + timedelta(minutes=1)

    def __call__(self, data: bytes) -> None:
        """cardio's check (typed CardError, or ValueError for bytes that are no certificate)
        and the server's intake (its typed LedgerError only)."""
        with warnings.catch_warnings():
            # cryptography warns (today) about a non-positive serial; a later release raises
            # ValueError there, which both checks already turn into their typed errors
            warnings.simplefilter("ignore", CryptographyDeprecationWarning)
            _only((CardError, ValueError), lambda: check_certificate(data, self.trust, self.at))
            _only(
                (LedgerError,), lambda: cards.validate_card_certificate(self.trust, data, self.at)
            )
            _only((LedgerError,), lambda: cards.card_ref(data))


# --- CSV imports -------------------------------------------------------------------------------


def csv_parse(data: bytes) -> None:
    """Every import format's parser on the same bytes: rows, or CsvImportError."""
    for columns in (imports.GRANT_COLUMNS, imports.SERVICE_ID_COLUMNS, imports.RENEWAL_COLUMNS):
        _only((AdminError,), functools.partial(parse_csv, data, columns))


class CsvImport:
    """The three imports applied to a real (migrated, seeded) ledger, each rolled back."""

    def __init__(self, engine: Engine, grant_program_id: int) -> None:
        self.engine, self.grant_program_id = engine, grant_program_id

    def __call__(self, data: bytes) -> None:
        """Applied, or refused with AdminError; the ledger is left as it was."""
        runs: list[Callable[..., object]] = [
            functools.partial(imports.import_grants, data=data),
            functools.partial(
                imports.import_grants, data=data, grant_program_id=self.grant_program_id
            ),
            functools.partial(imports.import_service_ids, data=data, business_id="A0001"),
            functools.partial(imports.import_renewal_links, data=data),
        ]
        for run in runs:
            with self.engine.connect() as conn:
                transaction = conn.begin()
                try:
                    _only((AdminError,), functools.partial(run, conn))
                finally:
                    transaction.rollback()


# --- voucher payloads ---------------------------------------------------------------------------


def voucher_payload(data: bytes) -> None:
    """Scanned text (as a wedge scanner or the camera gives it): only VoucherFormatError."""
    text = data.decode("utf-8", errors="replace")
    _only((VoucherFormatError,), lambda: decode_payload(text))
    _only((VoucherFormatError,), lambda: decode_payload("PV1:" + text))


def voucher_corpus() -> list[str]:
    """A few valid payloads to mutate."""
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    data = VoucherData(
        number="1000010000013",
        program_id=1,
        points=500,
        valid_from=date(2026, 11, 24),
        valid_until=date(2026, 11, 26),
        issuer_terminal_id="T0123456789ABCDEF",
        issuer_street_id="S0001",
    )
    return [encode_payload(data, key)]
