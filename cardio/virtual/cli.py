"""`mykey card virtual …`: the test CA, card profiles, CRLs, and serving a card through vpcd.

Commands (all folders are created 0700 with 0600 files; nothing existing is overwritten,
except the CRL file named by ``crl --out``)::

    ca-init --dir DIR                              new test CA (O=JPKI-TEST)
    create  --ca DIR --profile DIR --pin NNNN      new card profile issued by the CA
    renew   --ca DIR --profile DIR --out-profile DIR [--pin NNNN]
                                                   new card and certificate for the same person
    revoke  --ca DIR --profile DIR                 revoke the profile's user-auth certificate
    crl     --ca DIR --out FILE [--hours N]        write a fresh CRL (DER)
    serve   --profile DIR [...]                    the card in vpcd's reader (cardio.virtual.serve)

Errors print a Japanese line then an English line on stdout and exit 1.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from cardio.virtual.ca import TestCA, fingerprint
from cardio.virtual.errors import VirtualCardError
from cardio.virtual.profile import CardProfile, check_pin, write_private_file
from cardio.virtual.serve import register_serve

log = logging.getLogger(__name__)


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")


def _show(certificate: x509.Certificate) -> None:
    _out(f"subject: {certificate.subject.rfc4514_string()}")
    _out(f"issuer: {certificate.issuer.rfc4514_string()}")
    _out(f"serial: {certificate.serial_number}")
    _out(f"fingerprint: {fingerprint(certificate)}")
    start = certificate.not_valid_before_utc.isoformat()
    _out(f"valid: {start} .. {certificate.not_valid_after_utc.isoformat()}")


def _guarded(handler: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        try:
            return handler(args)
        except VirtualCardError as error:
            log.debug("%s failed: %s", handler.__name__, error.code)
            _out(error.message_ja)
            _out(error.message_en)
            return 1

    run.__name__ = handler.__name__
    run.__doc__ = handler.__doc__
    return run


@_guarded
def cmd_ca_init(args: argparse.Namespace) -> int:
    """Create a test CA folder."""
    ca = TestCA.init(args.dir)
    _out(f"ca: {ca.directory}")
    _out(f"trust: {ca.trust_directory}")
    _show(ca.certificate)
    return 0


@_guarded
def cmd_create(args: argparse.Namespace) -> int:
    """Issue a new card profile."""
    check_pin(args.pin)
    profile = TestCA.load(args.ca).issue_card(args.profile, args.pin)
    _out(f"profile: {profile.directory}")
    _show(profile.auth_certificate)
    return 0


@_guarded
def cmd_renew(args: argparse.Namespace) -> int:
    """Issue a renewal card for the person of an existing profile."""
    if args.pin is not None:
        check_pin(args.pin)
    ca = TestCA.load(args.ca)
    old = CardProfile.load(args.profile)
    new = ca.issue_card(args.out_profile, args.pin or old.pin, renew_from=old)
    _out(f"profile: {new.directory}")
    _out(f"renewed-from-serial: {old.auth_certificate.serial_number}")
    _show(new.auth_certificate)
    return 0


@_guarded
def cmd_revoke(args: argparse.Namespace) -> int:
    """Revoke a profile's user-authentication certificate."""
    ca = TestCA.load(args.ca)
    certificate = CardProfile.load(args.profile).auth_certificate
    ca.revoke(certificate)
    _out(f"revoked: serial {certificate.serial_number}")
    return 0


@_guarded
def cmd_crl(args: argparse.Namespace) -> int:
    """Write a fresh CRL in DER."""
    ca = TestCA.load(args.ca)
    crl = ca.crl(next_update=timedelta(hours=args.hours))
    write_private_file(args.out, crl.public_bytes(serialization.Encoding.DER))
    args.out.chmod(0o644)  # a CRL is public
    number = crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number
    _out(f"crl: {args.out} (DER)")
    _out(f"number: {number}")
    _out(f"revoked: {len(crl)}")
    next_update = crl.next_update_utc.isoformat() if crl.next_update_utc else "-"
    _out(f"next-update: {next_update}")
    return 0


def _positive_hours(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if value <= 0:
        raise argparse.ArgumentTypeError(
            f"正の時間数を指定してください / expected a positive number of hours, got {text!r}"
        )
    return value


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``card virtual`` subcommands to ``parser``."""
    commands = parser.add_subparsers(dest="virtual_command", metavar="COMMAND")

    p = commands.add_parser(
        "ca-init",
        help="create a test CA (O=JPKI-TEST) in a new folder",
        description="Create a test CA shaped like J-LIS's user-authentication CA, but O=JPKI-TEST. "
        "DIR/trust holds only its certificate: use it as the trust folder of 'mykey card auth'.",
    )
    p.add_argument("--dir", type=Path, required=True, help="new (absent or empty) folder")
    p.set_defaults(func=cmd_ca_init)

    p = commands.add_parser(
        "create",
        help="issue a new virtual card (a profile folder)",
        description="Issue a new card: keys, user-auth and signing certificates, PIN, tries.",
    )
    p.add_argument("--ca", type=Path, required=True, help="the test CA folder")
    p.add_argument("--profile", type=Path, required=True, help="new (absent or empty) folder")
    p.add_argument("--pin", required=True, metavar="NNNN", help="the card's PIN: 4 digits")
    p.set_defaults(func=cmd_create)

    p = commands.add_parser(
        "renew",
        help="issue a renewal card for the same person",
        description="Issue a new card and certificate for the person of --profile; the CA "
        "records the link old -> new certificate (renewals.json). The old one is not revoked.",
    )
    p.add_argument("--ca", type=Path, required=True, help="the test CA folder")
    p.add_argument("--profile", type=Path, required=True, help="the existing card's profile")
    p.add_argument("--out-profile", type=Path, required=True, help="new (absent or empty) folder")
    p.add_argument("--pin", metavar="NNNN", help="the new card's PIN (default: the old one)")
    p.set_defaults(func=cmd_renew)

    p = commands.add_parser(
        "revoke",
        help="revoke a card's user-authentication certificate",
        description="Put the profile's user-authentication certificate on the CA's revoked "
        "list; the next 'crl' lists it.",
    )
    p.add_argument("--ca", type=Path, required=True, help="the test CA folder")
    p.add_argument("--profile", type=Path, required=True, help="the card's profile folder")
    p.set_defaults(func=cmd_revoke)

    p = commands.add_parser(
        "crl",
        help="write the CA's CRL (DER)",
        description="Write a fresh CRL of the test CA to FILE in DER form (not PEM).",
    )
    p.add_argument("--ca", type=Path, required=True, help="the test CA folder")
    p.add_argument("--out", type=Path, required=True, help="output file (DER; replaced)")
    p.add_argument(
        "--hours",
        type=_positive_hours,
        default=24.0,
        help="hours until the CRL's nextUpdate (default 24)",
    )
    p.set_defaults(func=cmd_crl)

    register_serve(commands)
