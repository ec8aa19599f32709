#!/usr/bin/env bash
# Builds, with no container registry, the base images Settle's images start from:
#   localhost/settle/debian:bookworm-slim   a Debian bookworm root file system made by debootstrap (minbase), with
#                                           apt's sources so that images built on it install Debian packages
#                                           (PostgreSQL, Redis, nginx: deploy/images/*.Containerfile)
#   localhost/settle/python:3.10-slim       that, plus CPython 3.10 in /usr/local laid out as in the official
#                                           python:3.10-slim image (the Rasa image's BASE_IMAGE default), for Rasa
#                                           3.6.21 (Python 3.8-3.10) and requirements/rasa.lock
#   localhost/settle/python:3.12-slim       the same with CPython 3.12, as python:3.12-slim (the app images'
#                                           default), for requirements/app.lock
#
# Where the interpreters come from: Debian bookworm ships 3.11 only, which neither the Rasa lock (cp310 wheels)
# nor the app's (cp312) installs on, python.org's source tarballs cannot be fetched here, and pyenv kept no source
# (no ~/.pyenv/cache or sources). So each interpreter is the host's pyenv build (`pyenv prefix 3.10.13`), copied in
# without its site-packages, tkinter, idle and test suite. That is sound because the host is Debian bookworm too:
# the same glibc (2.36) and the same shared libraries (libssl3, libsqlite3-0, libffi8, ...) that debootstrap puts
# in the image, which the build checks by importing every C extension the images use. On a host whose pyenv
# Python was built against another distribution, set PYTHON310_PREFIX / PYTHON312_PREFIX to CPythons built on
# bookworm.
#
#   deploy/base-image.sh              build all three (about 3 minutes; debootstrap downloads ~40 MB of packages)
#   deploy/base-image.sh --if-missing build only those not already in podman's storage
# Environment: DEBIAN_MIRROR (default http://deb.debian.org/debian), PYTHON310_PREFIX and PYTHON312_PREFIX
# (default: pyenv's newest 3.10.x and 3.12.x).
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=deploy/podman.sh
source "$HERE/podman.sh"

DEBIAN_IMAGE=localhost/settle/debian:bookworm-slim
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

build_python() {  # MINOR (10 or 12)
    local minor="$1" image="localhost/settle/python:3.$1-slim" override="PYTHON3$1_PREFIX" prefix work version
    prefix="${!override:-}"
    if [ -z "$prefix" ]; then
        version="$(pyenv versions --bare 2>/dev/null | grep -E "^3\.$minor\.[0-9]+\$" | sort -t. -k3 -n -r | head -1)"
        prefix="$(pyenv prefix "$version" 2>/dev/null)" \
            || { echo "base-image: no $override and no pyenv 3.$minor" >&2; return 1; }
    fi
    version="$("$prefix/bin/python3.$minor" -c 'import platform; print(platform.python_version())')" \
        || { echo "base-image: $prefix is not CPython 3.$minor" >&2; return 1; }
    work="$(mktemp -d)"
    trap 'rm -rf "$work"' RETURN
    mkdir -p "$work/usr/local"
    # The standard library and the interpreter; not what was pip-installed into it, nor the GUI and test suite.
    tar -C "$prefix" -c \
        --exclude="lib/python3.$minor/site-packages/*" --exclude="lib/python3.$minor/test" \
        --exclude="lib/python3.$minor/*/tests" --exclude="lib/python3.$minor/idlelib" \
        --exclude="lib/python3.$minor/tkinter" --exclude="lib/python3.$minor/turtledemo" \
        --exclude="lib/python3.$minor/lib-dynload/_tkinter*" --exclude='__pycache__' --exclude='*.a' \
        "bin/python3.$minor" lib include | tar -C "$work/usr/local" -x
    cp "$HERE/images/python.Containerfile" "$work/Containerfile"
    settle_podman build --pull=never --build-arg "DEBIAN_IMAGE=$DEBIAN_IMAGE" --build-arg "PYTHON_MINOR=3.$minor" \
        --build-arg "PYTHON_VERSION=$version" -t "$image" "$work" >&2
    echo "base-image: $image" >&2
}

if [ "${1:-}" != "--if-missing" ] || ! exists "$DEBIAN_IMAGE"; then build_debian; fi
for minor in 10 12; do
    if [ "${1:-}" != "--if-missing" ] || ! exists "localhost/settle/python:3.$minor-slim"; then build_python "$minor"; fi
done
