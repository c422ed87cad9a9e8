"""Real processes for end-to-end tests: the ledger server (`mykey ledger serve`) and `mykey`
commands, each a separate OS process, as an installer or a support engineer would run them."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT_S = 30.0


def free_port() -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def mykey(
    *args: str, stdin: str | None = None, env: dict[str, str] | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """Run ``python -m mykey ARGS`` and wait for it."""
    return subprocess.run(
        [sys.executable, "-m", "mykey", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        cwd=ROOT,
        check=False,
    )


def mykey_json(*args: str, stdin: str | None = None, env: dict[str, str] | None = None) -> Any:
    """Run a `mykey terminal` command and parse the one JSON object it prints."""
    done = mykey(*args, stdin=stdin, env=env)
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    assert lines, f"no JSON from mykey {' '.join(args)}: {done.stdout}{done.stderr}"
    data: Any = json.loads(lines[-1])
    data["exit_code"] = done.returncode
    return data


class LedgerProcess:
    """`mykey ledger serve` on SQLite (or any database URL) in its own process, restartable."""

    def __init__(self, database_url: str, trust_dir: Path, folder: Path, port: int) -> None:
        self.database_url, self.trust_dir, self.port = database_url, trust_dir, port
        self.log_path = folder / "ledger.log"
        self.env = {
            "MYKEY_LEDGER_SIGNING_KEY_PATH": str(folder / "server-key.pem"),
            "MYKEY_LEDGER_PULL_CURSOR_LAG_SECONDS": "0",
        }
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """Where terminals reach it."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "mykey",
                "ledger",
                "serve",
                "--db",
                self.database_url,
                "--trust",
                str(self.trust_dir),
                "--port",
                str(self.port),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **self.env},
            cwd=ROOT,
        )
        log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the ledger exited: {self.log_path.read_text()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"the ledger did not start: {self.log_path.read_text()}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        """Stop it (SIGKILL for a crash) and wait until it is gone."""
        if self.process is None:
            return
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
