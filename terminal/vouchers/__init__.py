"""Point vouchers (ポイント券): numbers, the signed QR payload, offline verification, and the
printed face and paper layouts as plain data."""

from terminal.vouchers.layout import PaperLayout, VoucherFace, a4_sheet, receipt
from terminal.vouchers.payload import (
    PAYLOAD_PREFIX,
    SignedVoucher,
    VoucherData,
    decode_payload,
    encode_payload,
)
from terminal.vouchers.verify import VerifiedVoucher, verify_voucher

__all__ = [
    "PAYLOAD_PREFIX",
    "PaperLayout",
    "SignedVoucher",
    "VerifiedVoucher",
    "VoucherData",
    "VoucherFace",
    "a4_sheet",
    "decode_payload",
    "encode_payload",
    "receipt",
    "verify_voucher",
]
