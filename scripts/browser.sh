#!/usr/bin/env bash
# Makes sure Debian's chromium is installed for the browser tests (tests/browser). Playwright drives it with
# executable_path: Playwright's own browser download cannot be fetched here, Debian's package can.
set -u

if command -v chromium >/dev/null 2>&1; then
    exit 0
fi

echo "browser.sh: chromium not found; installing Debian's chromium package (a few minutes the first time)..." >&2
if ! command -v apt-get >/dev/null 2>&1; then
    echo "browser.sh: ERROR: no apt-get on this machine; install Chromium yourself so that \`chromium\` is on PATH." >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "browser.sh: ERROR: installing chromium needs root (or sudo); run: apt-get install -y chromium" >&2
        exit 1
    fi
fi
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -q && $SUDO apt-get install -y -q chromium; } >&2; then
    echo "browser.sh: ERROR: could not install chromium with apt-get (see above); the browser tests need it." >&2
    exit 1
fi
if ! command -v chromium >/dev/null 2>&1; then
    echo "browser.sh: ERROR: chromium was installed but is not on PATH." >&2
    exit 1
fi
echo "browser.sh: $(chromium --version 2>/dev/null || echo chromium) installed." >&2
