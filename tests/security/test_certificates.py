"""Card certificates the ledger must not accept: revoked (on an imported CRL), expired, not yet
valid, from a CA the server does not trust (same DN, another key), without the JPKI
user-authentication policy or usage, and bytes that are not a certificate at all. Each is refused
in push, online authorisation and look-up, with the reason, and nothing is applied."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import Engine

from cardio.auth import TrustStore
from cardio.virtual.ca import TestCA, new_rsa_key
from cardio.virtual.profile import CardProfile
from server_stub import operator as op
from sync.protocol import b64encode
from tests.ledger.conftest import TestClient, World, use
from tests.ledger.support import SigningTerminal
from tests.security.conftest import assert_clean, assert_problem, stored_transactions


@dataclass(frozen=True)
class BadCard:
    """A card whose key signs correctly but whose certificate must be refused."""

    auth_key: rsa.RSAPrivateKey
    auth_certificate: x509.Certificate


@pytest.fixture(scope="module")
def bad_cards(test_ca: TestCA, tmp_path_factory: pytest.TempPathFactory) -> dict[str, BadCard]:
    now = datetime.now(UTC)
    key = new_rsa_key()  # one key is enough: each certificate is what differs
    impostor = TestCA.init(tmp_path_factory.mktemp("impostor") / "ca")

    def issue(ca: TestCA = test_ca, **kwargs: object) -> BadCard:
        return BadCard(key, ca.issue_auth_certificate(key.public_key(), **kwargs))  # type: ignore[arg-type]

    revoked = issue()
    test_ca.revoke(revoked.auth_certificate)
    return {
        "certificate-revoked": revoked,
        "expired": issue(not_before=now - timedelta(days=400), not_after=now - timedelta(days=1)),
        "not-yet-valid": issue(not_before=now + timedelta(days=2)),
        "foreign-ca": issue(impostor),
        "no-policy": issue(policy=False),
        "no-digital-signature": issue(key_usage_digital_signature=False),
    }


EXPECTED = {
    "certificate-revoked": "certificate-revoked",
    "expired": "certificate-rejected",
    "not-yet-valid": "certificate-rejected",
    "foreign-ca": "certificate-rejected",
    "no-policy": "certificate-rejected",
    "no-digital-signature": "certificate-rejected",
}


def _import_crl(engine: Engine, test_ca: TestCA) -> None:
    with engine.begin() as conn:
        op.import_crl(
            conn,
            test_ca.crl().public_bytes(Encoding.DER),
            TrustStore.from_directory(test_ca.trust_directory),
        )


@pytest.mark.parametrize("case", sorted(EXPECTED))
def test_a_bad_certificate_is_refused_in_push_authorise_and_lookup(
    case: str,
    bad_cards: dict[str, BadCard],
    shop: SigningTerminal,
    engine: Engine,
    world: World,
    test_ca: TestCA,
) -> None:
    card = bad_cards[case]
    reason = EXPECTED[case]
    with engine.begin() as conn:  # a MyKey ID with points, so only the certificate can refuse
        op.create_mykey_id(conn, "CERT" + str(sorted(EXPECTED).index(case)), card.auth_certificate)
        op.grant_points(conn, world.grant_program_id, "CERT" + str(sorted(EXPECTED).index(case)))
    _import_crl(engine, test_ca)
    for offline in (False, True):
        pushed = shop.push(shop.tx(use(world, 10), card, offline=offline))  # type: ignore[arg-type]
        result = pushed.json()["results"][0]
        assert (result["status"], result["reason"]) == ("rejected", reason), (offline, result)
        assert result["message_ja"] and result["message_en"]
    authorised = shop.authorize(shop.tx(use(world, 10), card))  # type: ignore[arg-type]
    assert (authorised["status"], authorised["reason"]) == ("rejected", reason)
    der = card.auth_certificate.public_bytes(Encoding.DER)
    looked = shop.call("POST", "/v1/lookup", {"certificate": b64encode(der)})
    assert_problem(looked, 422, reason)
    assert_clean(engine)


@pytest.mark.parametrize(
    "der",
    [
        b"",
        b"\x30\x00",
        b"\x30\x82\xff\xff" + b"\x00" * 40,
        b"-----BEGIN CERTIFICATE-----",
        b"\x00" * 300,
    ],
    ids=["empty", "empty-sequence", "truncated", "pem-header", "zeros"],
)
def test_bytes_that_are_no_certificate_are_refused_cleanly(
    der: bytes, shop: SigningTerminal, engine: Engine, world: World
) -> None:
    before = stored_transactions(engine)
    looked = shop.call("POST", "/v1/lookup", {"certificate": b64encode(der)})
    assert looked.status_code == 422, looked.text
    assert looked.json()["code"] in ("invalid-input", "certificate-rejected")
    if len(der) >= 3:  # the wire format needs at least 4 base64 characters
        tx = shop.tx(use(world, 10)).model_dump(mode="json")
        tx["card"] = {"certificate": b64encode(der), "signature": b64encode(b"\x01" * 256)}
        pushed = shop.call("POST", "/v1/transactions/push", {"transactions": [tx]})
        assert pushed.status_code in (200, 422), pushed.text
        if pushed.status_code == 200:
            assert pushed.json()["results"][0]["status"] == "rejected"
    assert stored_transactions(engine) - before <= 1  # at most the refusal, recorded as such
    assert_clean(engine)


def _with_version(der: bytes, version: int) -> bytes:
    """``der`` with its X.509 version field (``A0 03 02 01 vv``) set to ``version``."""
    marker = bytes.fromhex("a003020102")
    assert marker in der
    return der.replace(marker, bytes.fromhex("a0030201") + bytes([version]), 1)


def test_a_certificate_with_an_unknown_version_is_refused_not_a_server_error(
    shop: SigningTerminal, engine: Engine, world: World, cards: list[CardProfile]
) -> None:
    der = _with_version(cards[0].auth_certificate.public_bytes(Encoding.DER), 10)
    quiet = TestClient(shop.client.app, raise_server_exceptions=False)  # type: ignore[attr-defined]
    signer = SigningTerminal(quiet, shop.terminal_id, shop.business_id, shop.key)
    looked = signer.call("POST", "/v1/lookup", {"certificate": b64encode(der)})
    tx = shop.tx(use(world, 10), cards[0]).model_dump(mode="json")
    tx["card"]["certificate"] = b64encode(der)
    pushed = signer.call("POST", "/v1/transactions/push", {"transactions": [tx]})
    assert looked.status_code == 422, looked.text
    assert pushed.status_code in (200, 422), pushed.text
