#!/usr/bin/env bash
# Prints the path of the kubectl that renders deploy/k8s (its built-in kustomize), installing it the first time:
# Debian's kubernetes-client (kubectl 1.20, kustomize v2.0.3), unpacked into $SETTLE_CACHE/tools rather than
# installed, so it never clashes with a kubectl the machine already has (which tests/test_k8s_manifests.py then
# renders with too: both must give the same objects). Debian's package is the one that every machine of the project
# can fetch; kubectl's own downloads cannot be. `make test` and `make test-fast` run this.
#   scripts/kubectl.sh               the path, installing it if missing (apt-get; root, or sudo)
#   scripts/kubectl.sh --no-install  the path, or exit 1 if it is not installed
set -euo pipefail

CACHE="${SETTLE_CACHE:-$HOME/.cache/settle}"
TOOLS="$CACHE/tools"

installed() {
    local kubectl
    for kubectl in "$TOOLS"/kubernetes-client-*/usr/bin/kubectl; do
        if [ -x "$kubectl" ] && "$kubectl" version --client >/dev/null 2>&1; then echo "$kubectl"; return 0; fi
    done
    return 1
}

if installed; then exit 0; fi
if [ "${1:-}" = "--no-install" ]; then exit 1; fi

echo "kubectl.sh: unpacking Debian's kubernetes-client into $TOOLS (first run only)..." >&2
if ! command -v apt-get >/dev/null 2>&1; then
    echo "kubectl.sh: ERROR: no apt-get on this machine; the manifest tests need a kubectl with kustomize:" \
         "set SETTLE_KUBECTL to one." >&2
    exit 1
fi
SUDO=""
if [ "$(id -u)" != "0" ] && command -v sudo >/dev/null 2>&1; then SUDO="sudo"; fi
if ! apt-cache show kubernetes-client >/dev/null 2>&1; then
    $SUDO apt-get update -q >&2 || true
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"; chown _apt "$work" 2>/dev/null || true  # apt-get fetches as _apt when it can
if ! (cd "$work" && apt-get download -q kubernetes-client >&2); then
    echo "kubectl.sh: ERROR: could not download Debian's kubernetes-client with apt-get (see above)." >&2
    exit 1
fi
deb="$(ls "$work"/kubernetes-client_*.deb)"
version="$(dpkg-deb -f "$deb" Version | tr '+:~' '___')"
mkdir -p "$TOOLS"
rm -rf "$TOOLS/kubernetes-client-$version.partial"
dpkg-deb -x "$deb" "$TOOLS/kubernetes-client-$version.partial"
rm -rf "$TOOLS/kubernetes-client-$version"
mv "$TOOLS/kubernetes-client-$version.partial" "$TOOLS/kubernetes-client-$version"
installed || { echo "kubectl.sh: ERROR: the unpacked kubectl does not run." >&2; exit 1; }
