#!/usr/bin/env bash
# Start pcscd in the foreground, in the background of this shell, unless one already answers.
# Waits until its socket accepts connections and records the PID.  Never uses --auto-exit.
#   scripts/pcscd.sh start   # idempotent; prints the PID file path
#   scripts/pcscd.sh stop    # stops only a pcscd this script started
#   scripts/pcscd.sh status
# PCSCD_LOG (default build/pcscd.log) receives its output; PCSCD_DEBUG=1 adds --debug (its APDU
# log shows PIN bytes: tests only).
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p build
SOCKET=/run/pcscd/pcscd.comm
PIDFILE=${PCSCD_PIDFILE:-build/pcscd.pid}
LOG=${PCSCD_LOG:-build/pcscd.log}

answers() {
  # The socket answers when a client can connect to it.
  [ -S "$SOCKET" ] && python3 - "$SOCKET" <<'PY' 2>/dev/null
import socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(1)
s.connect(sys.argv[1])
PY
}

case "${1:-start}" in
  start)
    if answers; then
      echo "pcscd already running"
      exit 0
    fi
    command -v pcscd >/dev/null || { echo "pcscd is not installed (scripts/bootstrap.sh)" >&2; exit 1; }
    rm -f "$SOCKET"
    mkdir -p /run/pcscd 2>/dev/null || true
    args=(--foreground)
    [ "${PCSCD_DEBUG:-0}" = 1 ] && args+=(--debug)
    setsid pcscd "${args[@]}" >"$LOG" 2>&1 < /dev/null &
    echo $! > "$PIDFILE"
    for _ in $(seq 100); do
      if answers; then echo "pcscd started (pid $(cat "$PIDFILE"))"; exit 0; fi
      kill -0 "$(cat "$PIDFILE")" 2>/dev/null || break
      sleep 0.1
    done
    echo "pcscd did not come up; see $LOG" >&2
    tail -20 "$LOG" >&2 || true
    exit 1
    ;;
  stop)
    if [ -f "$PIDFILE" ]; then
      kill "$(cat "$PIDFILE")" 2>/dev/null || true
      rm -f "$PIDFILE"
    fi
    ;;
  status)
    answers && echo running || { echo "not running"; exit 1; }
    ;;
  *) echo "usage: $0 start|stop|status" >&2; exit 2 ;;
esac
