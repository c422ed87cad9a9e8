#!/usr/bin/env bash
# Set up everything the project needs on a fresh Debian machine: system packages (when root and
# missing), the virtual environment, and the project in editable mode with its dev extras.
# Idempotent and quiet when nothing is missing.  Usage: scripts/bootstrap.sh
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  pcscd vsmartcard-vpcd libpcsclite-dev swig gcc opensc pcsc-tools
  postgresql postgresql-contrib
  # Qt (PySide6 wheels) offscreen and on a desktop; vouchers: Japanese font, PDF -> PNG, zbar
  libegl1 libgl1 libfontconfig1 libxkbcommon0 libdbus-1-3 libglib2.0-0
  fonts-noto-cjk poppler-utils libzbar0
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "bootstrap: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    # Debian starts pcscd/postgresql through systemd where it exists; we start our own.
  else
    echo "bootstrap: missing system packages: ${missing[*]}" >&2
    echo "bootstrap: run as root once, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  .venv/bin/python -m pip install -q --upgrade pip
  .venv/bin/python -m pip install -q -e '.[dev]'
  rm -f .venv/.installed-* && touch "$stamp"
fi
