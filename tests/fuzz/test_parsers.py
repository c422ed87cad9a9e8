"""Hypothesis fuzzing of the parsers the outside world reaches: APDU responses from a card,
certificates (cardio's check and the server's card intake), operator CSV imports (parsed, and
applied to a real ledger) and scanned voucher payloads. Only typed errors may come out
(tests/fuzz/targets.py says which); inputs are random bytes and mutations of valid inputs.
`python -m tests.fuzz.run_atheris` runs the same targets under atheris for longer."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from cardio.virtual.ca import TestCA
from server_stub.db.schema import transfers
from tests.fuzz import targets

FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    derandomize=True,  # CI runs the same inputs every time; atheris explores beyond them
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


@st.composite
def mutated(draw: st.DrawFn, seed: bytes) -> bytes:
    """``seed`` with a few bytes flipped, cut, inserted or truncated."""
    data = bytearray(seed)
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        where = draw(st.integers(0, len(data) - 1))
        action = draw(st.sampled_from(["flip", "cut", "insert", "truncate", "byte"]))
        if action == "flip":
            data[where] ^= 1 << draw(st.integers(0, 7))
        elif action == "cut":
            del data[where : where + draw(st.integers(1, 16))]
        elif action == "insert":
            data[where:where] = draw(st.binary(min_size=1, max_size=8))
        elif action == "truncate":
            del data[where:]
        else:
            data[where] = draw(st.sampled_from([0x00, 0x7F, 0x80, 0x81, 0x82, 0xFF]))
    return bytes(data)


def _answers(parts: list[bytes]) -> bytes:
    return b"".join(bytes([min(len(p), 255)]) + p[:255] for p in parts)


SWS = st.sampled_from(
    [b"\x90\x00", b"\x61\x00", b"\x61\x10", b"\x6c\x05", b"\x6c\x00", b"\x63\xc2", b"\x63\xc0",
     b"\x69\x84", b"\x69\x82", b"\x6a\x82", b"\x6f\x00", b"\x62\x82", b"\x63\xcf", b"\x00\x00"]
)  # fmt: skip
ANSWER = st.builds(lambda data, sw: data + sw, st.binary(max_size=300), SWS)


@FUZZ
@given(st.one_of(st.binary(max_size=600), st.lists(ANSWER, max_size=12).map(_answers)))
@example(_answers([b"\x90\x00", b"\x30\x82\xff\xff" + b"\x00" * 250 + b"\x90\x00"]))
@example(_answers([b"\x61\x00"] * 80))
def test_apdu_responses_give_only_card_errors(data: bytes) -> None:
    targets.apdu_responses(data)


@pytest.fixture(scope="module")
def intake(fuzz_ca: TestCA) -> targets.CertificateIntake:
    return targets.CertificateIntake(fuzz_ca.trust_directory)


@FUZZ
@given(data=st.data())
def test_arbitrary_der_gives_only_typed_certificate_errors(
    data: st.DataObject, intake: targets.CertificateIntake, certificate_der: bytes
) -> None:
    der = data.draw(st.one_of(st.binary(max_size=2000), mutated(certificate_der)))
    intake(der)


def test_findings_of_earlier_fuzz_runs_give_only_typed_errors(
    intake: targets.CertificateIntake,
) -> None:
    """atheris found a certificate whose unique-identifier field made cryptography raise a
    TypeError from inside the checks; every such input is kept here."""
    for finding in sorted((Path(__file__).parent / "regressions").glob("certificate-*")):
        intake(finding.read_bytes())


def test_the_valid_certificate_passes_both_checks(
    intake: targets.CertificateIntake, certificate_der: bytes
) -> None:
    """The corpus itself is accepted (so the fuzz above starts from a real certificate)."""
    from server_stub import cards

    assert cards.validate_card_certificate(intake.trust, certificate_der, intake.at).serial


def test_cardio_refuses_bytes_that_are_no_certificate_with_a_card_error(
    intake: targets.CertificateIntake,
) -> None:
    from cardio.auth import check_certificate
    from cardio.errors import CardError

    with pytest.raises(CardError):
        check_certificate(b"\x30\x03\x02\x01\x01", intake.trust, intake.at)


GRANTS_CSV = '\ufeffマイキーID,ポイント,受付番号\r\nFUZZ0001,10,A-1\r\nFUZZ0001,"1,000",B\r\n'
CSV_TEXT = st.text(
    alphabet=st.sampled_from([*'ab1,"\r\n ,\ufeffマイキーID顧客ポイント0x:', "\x00", "\u3000"]),
    max_size=200,
)


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=400),
        CSV_TEXT.map(lambda t: t.encode("utf-8")),
        mutated(GRANTS_CSV.encode("utf-8")),
    )
)
def test_csv_files_give_only_import_errors(data: bytes) -> None:
    targets.csv_parse(data)


@settings(FUZZ, max_examples=60)
@given(st.one_of(CSV_TEXT.map(lambda t: t.encode("utf-8")), mutated(GRANTS_CSV.encode("utf-8"))))
def test_csv_imports_into_a_real_ledger_give_only_import_errors(
    seeded_ledger: tuple[Engine, int], data: bytes
) -> None:
    engine, grant_program_id = seeded_ledger
    targets.CsvImport(engine, grant_program_id)(data)
    with engine.connect() as conn:  # every run was rolled back: only the seed grant is there
        assert conn.execute(select(func.count()).select_from(transfers)).scalar_one() == 1


@FUZZ
@given(
    st.one_of(
        st.binary(max_size=300),
        st.sampled_from(targets.voucher_corpus()).flatmap(
            lambda p: mutated(p.encode("ascii")) | st.just(p.encode("ascii"))
        ),
    )
)
def test_scanned_voucher_text_gives_only_format_errors(data: bytes) -> None:
    targets.voucher_payload(data)
