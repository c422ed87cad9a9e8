"""Offline verification of a scanned voucher: is it genuine, and usable here today?

Checks in order, the first failure raising its own :class:`VoucherError` subclass:

1. the text is a voucher payload (:class:`VoucherFormatError`);
2. the issuer is an office of this street whose key this terminal has synced
   (:class:`VoucherOtherStreetError` when the voucher names another street,
   :class:`VoucherUnknownIssuerError` otherwise);
3. the Ed25519 signature over the body is right (:class:`VoucherForgedError`);
4. today (JST) is within the validity dates (:class:`VoucherNotYetValidError`,
   :class:`VoucherExpiredError`);
5. not redeemed yet: not by this terminal (:class:`VoucherRedeemedHereError`) and not in the
   street's synced list (:class:`VoucherRedeemedElsewhereError`).

A voucher that passes may still be refused online (e.g. redeemed by a shop since the last sync):
verification is what the terminal can know alone.
"""

from __future__ import annotations

import base64
import binascii
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sync.protocol import VoucherKey
from terminal.vouchers.errors import (
    VoucherExpiredError,
    VoucherForgedError,
    VoucherNotYetValidError,
    VoucherOtherStreetError,
    VoucherRedeemedElsewhereError,
    VoucherRedeemedHereError,
    VoucherUnknownIssuerError,
)
from terminal.vouchers.payload import VoucherData, decode_payload

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerifiedVoucher:
    """A genuine voucher, usable here today as far as this terminal knows."""

    data: VoucherData
    issuer_business_id: str


def _public_key(key: VoucherKey) -> Ed25519PublicKey | None:
    try:
        return Ed25519PublicKey.from_public_bytes(base64.b64decode(key.public_key, validate=True))
    except (ValueError, binascii.Error):
        log.warning("voucher key of %s is not a valid Ed25519 key", key.terminal_id)
        return None


def _never(_number: str) -> bool:
    return False


def verify_voucher(
    text: str,
    *,
    keys: Sequence[VoucherKey],
    today: date,
    business_id: str,
    is_redeemed: Callable[[str], bool],
    street_id: str | None = None,
    redeemed_here: Callable[[str], bool] = _never,
) -> VerifiedVoucher:
    """Verify scanned ``text`` for ``business_id`` (of ``street_id``) on JST date ``today``.

    ``keys``: the street's office voucher keys (synced); ``is_redeemed``: redeemed here or in
    the street's synced list; ``redeemed_here``: asked only when ``is_redeemed`` says yes, to
    tell "this terminal" from "another shop". Raises one :class:`VoucherError` subclass (see the
    module docstring).
    """
    signed = decode_payload(text)
    data = signed.data
    claimed_street = data.issuer_street_id
    known = next((k for k in keys if k.terminal_id == data.issuer_terminal_id), None)
    public = None if known is None else _public_key(known)
    if known is None or public is None:
        if street_id is None or (claimed_street and claimed_street != street_id):
            raise VoucherOtherStreetError(
                f"issued in {claimed_street or '?'}; {business_id} is in {street_id or 'no street'}"
            )
        raise VoucherUnknownIssuerError(f"issuer {data.issuer_terminal_id} not among the keys")
    try:
        public.verify(signed.signature, signed.body)
    except InvalidSignature:
        raise VoucherForgedError(f"voucher {data.number} from {known.terminal_id}") from None
    if claimed_street and street_id is not None and claimed_street != street_id:
        raise VoucherOtherStreetError(f"signed for street {claimed_street}, here {street_id}")
    if today < data.valid_from:
        raise VoucherNotYetValidError(data.valid_from, f"{data.number} on {today}")
    if today > data.valid_until:
        raise VoucherExpiredError(data.valid_until, f"{data.number} on {today}")
    if is_redeemed(data.number):
        if redeemed_here(data.number):
            raise VoucherRedeemedHereError(data.number)
        raise VoucherRedeemedElsewhereError(data.number)
    return VerifiedVoucher(data, known.business_id)
