"""`mykey card …`: readers, card info, authentication, the virtual card (`card virtual …`).

Output lines are a contract (tests and demos read them): ``auth`` prints ``issuer:``,
``serial:``, ``fingerprint:`` and a final ``result:`` line; exit 0 only on success, 3 for a
wrong PIN (``result: wrong-pin tries-left=N``), 4 for a locked PIN (``result: pin-locked``),
1 for any other failure (``result: <error code>``), each failure preceded by its Japanese and
English message lines.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from cryptography import x509

from cardio.errors import CardError, PinLockedError, WrongPinError
from cardio.secrets import Pin, PinFormatError

log = logging.getLogger(__name__)

TOKYO = ZoneInfo("Asia/Tokyo")
EXIT_OK, EXIT_FAILURE, EXIT_WRONG_PIN, EXIT_PIN_LOCKED = 0, 1, 3, 4
PIN_FORMAT_JA = "暗証番号は数字4桁で入力してください。暗証番号はカードに送っていません。"
PIN_FORMAT_EN = "The PIN must be exactly 4 digits. It was not sent to the card."


def default_trust_dir() -> Path:
    """Where ``card auth`` looks for trust anchors by default: the terminal's own ``trust``
    folder, where installers put the J-LIS CA certificates (``$MYKEY_TERMINAL_DATA/trust``, else
    ``trust`` in the user's MyKeyTerminal data folder). The same folder as
    ``terminal.config.TerminalPaths.trust_dir``, which cardio may not import; a test keeps the
    two equal."""
    import platformdirs

    configured = os.environ.get("MYKEY_TERMINAL_DATA")
    data = configured or platformdirs.user_data_dir("MyKeyTerminal", appauthor=False)
    return Path(data) / "trust"


def register(parser: argparse.ArgumentParser) -> None:
    """Add the ``card`` subcommands to ``parser``."""
    commands = parser.add_subparsers(dest="card_command", metavar="COMMAND")

    readers = commands.add_parser("readers", help="list card readers and whether a card is on them")
    readers.set_defaults(func=cmd_readers)

    info = commands.add_parser("info", help="show the card's label and certificate (no PIN)")
    info.add_argument("--reader", help="reader name (default: the one holding a JPKI card)")
    info.set_defaults(func=cmd_info)

    auth = commands.add_parser("auth", help="authenticate the card with its PIN")
    auth.add_argument("--reader", help="reader name (default: the one holding a JPKI card)")
    auth.add_argument(
        "--trust",
        type=Path,
        help="folder of trusted CA certificates (PEM/DER); default: the terminal's trust folder",
    )
    auth.add_argument("--crl", type=Path, help="CRL file to check revocation against")
    auth.add_argument("--pin-stdin", action="store_true", help="read the PIN as one stdin line")
    auth.set_defaults(func=cmd_auth)

    from cardio.virtual import cli as virtual_cli

    virtual_cli.register(commands.add_parser("virtual", help="the virtual JPKI card (emulator)"))


def _out(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _fail(error: CardError) -> int:
    """Print the user lines and the result line for ``error``; return the exit code."""
    log.debug("card failure: %s", error)
    _out(error.message_ja)
    _out(error.message_en)
    if isinstance(error, WrongPinError):
        _out(f"result: wrong-pin tries-left={error.tries_left}")
        return EXIT_WRONG_PIN
    _out(f"result: {error.code}")
    return EXIT_PIN_LOCKED if isinstance(error, PinLockedError) else EXIT_FAILURE


def _tokyo(moment: datetime) -> str:
    return moment.astimezone(TOKYO).isoformat()


def cmd_readers(args: argparse.Namespace) -> int:
    """``mykey card readers``: one line per reader, ``NAME: card ATR`` or ``NAME: empty``."""
    from cardio.errors import NoReaderError
    from cardio.transport import reader_states

    try:
        states = reader_states()
        if not states:
            raise NoReaderError("no readers")
    except CardError as error:
        return _fail(error)
    for name, atr in states.items():
        _out(f"{name}: card {atr.hex(' ').upper()}" if atr is not None else f"{name}: empty")
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    """``mykey card info``: label, certificate subject, serial, issuer, validity, tries left."""
    from cardio.auth import CertificateRef
    from cardio.jpki import JpkiSession, check_token_label
    from cardio.transport import PcscConnection

    try:
        with PcscConnection.open(args.reader, exclusive=False) as connection:
            session = JpkiSession(connection)
            session.select_ap()
            _out(f"reader: {connection.reader}")
            label = session.label()
            _out(f"label: {label}")
            check_token_label(label)  # the label just read: no second READ of EF 0006
            der = session.read_auth_certificate()
            cert = x509.load_der_x509_certificate(der)
            ref = CertificateRef.of(cert)
            _out(f"subject: {cert.subject.rfc4514_string()}")
            _out(f"serial: {ref.serial}")
            _out(f"issuer: {ref.issuer}")
            _out(f"not-before: {_tokyo(cert.not_valid_before_utc)}")
            _out(f"not-after: {_tokyo(cert.not_valid_after_utc)}")
            _out(f"fingerprint: {ref.fingerprint_sha256}")
            _out(f"pin-tries-left: {session.pin_tries_left()}")
    except CardError as error:
        return _fail(error)
    except ValueError as error:  # an unparsable certificate
        log.debug("certificate parse failure: %s", error)
        _out("証明書を読み取れませんでした。")
        _out("The certificate could not be parsed.")
        _out("result: bad-certificate")
        return EXIT_FAILURE
    _out("result: ok")
    return EXIT_OK


def _pin_source(from_stdin: bool) -> Callable[[int], Pin]:
    """A prompt that returns the PIN: one stdin line, or a hidden prompt on the terminal."""

    def ask(tries_left: int) -> Pin:
        _out(f"pin-tries-left: {tries_left}")
        if from_stdin:
            return Pin(sys.stdin.readline().rstrip("\r\n"))
        if tries_left == 1:
            answer = input(
                "暗証番号の残り回数は1回です。続けますか / One try left. Continue? [y/N] "
            )
            if answer.strip().lower() not in ("y", "yes", "はい"):
                raise _CancelledError()
        prompt = f"暗証番号（数字4桁、残り{tries_left}回） / PIN (4 digits, {tries_left} left): "
        return Pin(getpass.getpass(prompt))

    return ask


class _CancelledError(Exception):
    """The holder chose not to enter the PIN."""


def cmd_auth(args: argparse.Namespace) -> int:
    """``mykey card auth``: check the certificate, ask the PIN, sign a fresh challenge."""
    from cardio.auth import TrustStore, inspect_card, prove_possession
    from cardio.jpki import JpkiSession
    from cardio.revocation import CrlRevocationSource
    from cardio.transport import PcscConnection

    try:
        trust = TrustStore.from_directory(args.trust or default_trust_dir())
        revocation = CrlRevocationSource.from_files([args.crl]) if args.crl else None
        with PcscConnection.open(args.reader, exclusive=True) as connection:
            session = JpkiSession(connection)
            card = inspect_card(session, trust=trust, revocation=revocation)
            _out(f"issuer: {card.ref.issuer}")
            _out(f"serial: {card.ref.serial}")
            _out(f"fingerprint: {card.ref.fingerprint_sha256}")
            status = card.validated.revocation
            _out(
                f"revocation: good age={int(status.age.total_seconds())}s"
                if status
                else "revocation: not-checked"
            )
            prove_possession(session, card, _pin_source(args.pin_stdin), os.urandom(32))
    except PinFormatError:
        _out(PIN_FORMAT_JA)
        _out(PIN_FORMAT_EN)
        _out("result: malformed-pin")
        return EXIT_FAILURE
    except (_CancelledError, EOFError, KeyboardInterrupt):
        _out("中止しました。暗証番号はカードに送っていません。")
        _out("Cancelled. The PIN was not sent to the card.")
        _out("result: cancelled")
        return EXIT_FAILURE
    except CardError as error:
        return _fail(error)
    _out("result: ok")
    return EXIT_OK
