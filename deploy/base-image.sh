#!/usr/bin/env bash
# Builds, with no container registry, the two base images Settle's images start from:
#   localhost/settle/debian:bookworm-slim   a Debian bookworm root file system made by debootstrap (minbase), with
#                                           apt's sources so that images built on it install Debian packages
#                                           (PostgreSQL, Redis, nginx: deploy/images/*.Containerfile)
#   localhost/settle/python:3.10-slim       that, plus CPython 3.10 in /usr/local laid out as in the official
#                                           python:3.10-slim image (what BASE_IMAGE defaults to), for Rasa 3.6.21
#                                           (Python 3.8-3.10) and the app's locks, which are resolved for 3.10
#
# Where CPython 3.10 comes from: Debian bookworm ships 3.11 and bullseye 3.9, neither of which the hash-pinned
# locks (cp310 wheels) install on, python.org's source tarball cannot be fetched here, and pyenv kept no source
# (no ~/.pyenv/cache or sources). So the interpreter is the host's pyenv build (`pyenv prefix 3.10.13`), copied in
# without its site-packages, tkinter, idle and test suite. That is sound because the host is Debian bookworm too:
# the same glibc (2.36) and the same shared libraries (libssl3, libsqlite3-0, libffi8, ...) that debootstrap puts
# in the image, which the build checks by importing every C extension the images use. On a host whose pyenv
# Python was built against another distribution, set PYTHON_PREFIX to a CPython 3.10 built on bookworm.
#
#   deploy/base-image.sh              build both (about 3 minutes; debootstrap downloads ~40 MB of packages)
#   deploy/base-image.sh --if-missing build only those not already in podman's storage
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), PYTHON_PREFIX (default: pyenv's 3.10.13).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/podman.sh
source "$HERE/podman.sh"

DEBIAN_IMAGE=localhost/settle/debian:bookworm-slim
PYTHON_IMAGE=localhost/settle/python:3.10-slim
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# What the interpreter's C extensions link against (ldd of lib-dynload, less tkinter's X11/Tk) and what a Python
# base image has besides: CA certificates, time zones, /etc/services.
RUNTIME_PACKAGES=ca-certificates,netbase,tzdata,libssl3,libsqlite3-0,libffi8,zlib1g,libbz2-1.0,liblzma5,libreadline8,libncursesw6,libuuid1,libexpat1,libnsl2,libcrypt1

exists() { settle_podman image exists "$1"; }

build_debian() {
    local work
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' RETURN
    echo "base-image: debootstrap bookworm (minbase) from $MIRROR" >&2
    nice debootstrap --variant=minbase --include="$RUNTIME_PACKAGES" bookworm "$work/rootfs" "$MIRROR" \
        >"$work/debootstrap.log" 2>&1 || { tail -20 "$work/debootstrap.log" >&2; return 1; }
    cat >"$work/rootfs/etc/apt/sources.list" <<EOF
deb $MIRROR bookworm main
deb $MIRROR bookworm-updates main
deb ${MIRROR%/debian}/debian-security bookworm-security main
EOF
    # As debian:bookworm-slim: no apt lists, caches, docs or man pages in the image.
    rm -rf "$work/rootfs"/var/lib/apt/lists/* "$work/rootfs"/var/cache/apt/*.bin \
        "$work/rootfs"/var/cache/apt/archives/*.deb "$work/rootfs"/usr/share/doc/* "$work/rootfs"/usr/share/man/* \
        "$work/rootfs"/usr/share/info/* "$work/rootfs"/var/log/*.log
    tar --numeric-owner -C "$work/rootfs" -c . | settle_podman import \
        --change 'CMD ["bash"]' --change 'ENV LANG=C.UTF-8' - "$DEBIAN_IMAGE" >/dev/null
    echo "base-image: $DEBIAN_IMAGE" >&2
}

build_python() {
    local prefix="${PYTHON_PREFIX:-}" work
    if [ -z "$prefix" ]; then
        prefix="$(pyenv prefix 3.10.13 2>/dev/null)" || { echo "base-image: no PYTHON_PREFIX and no pyenv 3.10.13" >&2; return 1; }
    fi
    "$prefix/bin/python3.10" -c 'import sys; assert sys.version_info[:2] == (3, 10)' \
        || { echo "base-image: $prefix is not CPython 3.10" >&2; return 1; }
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' RETURN
    mkdir -p "$work/usr/local"
    # The standard library and the interpreter; not what was pip-installed into it, nor the GUI and test suite.
    tar -C "$prefix" -c \
        --exclude='lib/python3.10/site-packages/*' --exclude='lib/python3.10/test' \
        --exclude='lib/python3.10/*/tests' --exclude='lib/python3.10/idlelib' --exclude='lib/python3.10/tkinter' \
        --exclude='lib/python3.10/turtledemo' --exclude='lib/python3.10/lib-dynload/_tkinter*' \
        --exclude='__pycache__' --exclude='*.a' \
        bin/python3.10 lib include | tar -C "$work/usr/local" -x
    cp "$HERE/images/python.Containerfile" "$work/Containerfile"
    settle_podman build --pull=never --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" -t "$PYTHON_IMAGE" "$work" >&2
    echo "base-image: $PYTHON_IMAGE" >&2
}

if [ "${1:-}" != "--if-missing" ] || ! exists "$DEBIAN_IMAGE"; then build_debian; fi
if [ "${1:-}" != "--if-missing" ] || ! exists "$PYTHON_IMAGE"; then build_python; fi
