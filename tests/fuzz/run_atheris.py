"""Run one fuzz target of tests/fuzz/targets.py under atheris (libFuzzer, coverage-guided).

    python -m tests.fuzz.run_atheris TARGET [libFuzzer options, e.g. -runs=20000]

TARGET is ``apdu``, ``certificate``, ``csv``, ``csv-import`` or ``voucher``. A finding (an
error that is not the parser's typed error) stops the run with a non-zero exit and the input
saved as ``crash-*``; ``scripts/evidence.py`` runs every target and reports the counts.
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

import atheris  # type: ignore[import-untyped]

with atheris.instrument_imports(include=["cardio", "server_stub", "terminal"]):
    from cardio.virtual.ca import TestCA, new_rsa_key
    from server_stub.db.engine import make_engine
    from server_stub.db.migrate import migrate
    from tests.fuzz import targets
    from tests.ledger.conftest import build_world

TARGETS = ("apdu", "certificate", "csv", "csv-import", "voucher")


def _setup(name: str, work: Path) -> tuple[Callable[[bytes], None], list[bytes]]:
    """The target function and a seed corpus."""
    if name == "apdu":
        return targets.apdu_responses, [b"\x02\x90\x00", b"\x02\x61\x10\x12" + b"\x00" * 16]
    if name == "certificate":
        from cryptography.hazmat.primitives.serialization import Encoding

        ca = TestCA.init(work / "ca")
        der = ca.issue_auth_certificate(new_rsa_key().public_key()).public_bytes(Encoding.DER)
        return targets.CertificateIntake(ca.trust_directory), [der]
    grants = "マイキーID,ポイント,受付番号\r\nFUZZ0001,10,A-1\r\n".encode()
    if name == "csv":
        return targets.csv_parse, [grants]
    if name == "csv-import":
        url = f"sqlite:///{work / 'ledger.db'}"
        migrate(url)
        engine = make_engine(url)
        world = build_world(engine)
        return targets.CsvImport(engine, world.grant_program_id), [grants]
    if name == "voucher":
        return targets.voucher_payload, [p.encode("ascii") for p in targets.voucher_corpus()]
    raise SystemExit(f"unknown target {name!r}; choose one of {', '.join(TARGETS)}")


def main() -> None:
    """Set up the target named in argv[1] and hand the rest of argv to libFuzzer."""
    if len(sys.argv) < 2:
        raise SystemExit(__doc__)
    name, options = sys.argv[1], sys.argv[2:]
    work = Path(tempfile.mkdtemp(prefix=f"atheris-{name}-"))
    target, seeds = _setup(name, work)
    corpus = work / "corpus"
    corpus.mkdir()
    for i, seed in enumerate(seeds):
        (corpus / f"seed{i}").write_bytes(seed)
    atheris.Setup([sys.argv[0], *options, str(corpus)], target)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
