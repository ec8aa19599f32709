#!/bin/sh
# Build stage of Settle's images: a virtual environment at /opt/venv from one of the project's hash-pinned locks.
#   install-lock.sh [--compile] LOCK [PACKAGE...]   install LOCK less the named packages (tools the image does
#                                                   not run); --compile: byte-compile everything now
# uv comes from requirements/uv.lock and installs with --require-hashes --no-deps, as scripts/envs.sh does, so
# every file in the image matches a sha256 in the lock; `uv pip check` then fails the build if a package left out
# was needed by one kept. Runs in the build stage only: uv is not copied to the final image.
set -eu
compile=""
if [ "$1" = "--compile" ]; then compile="--compile-bytecode"; shift; fi
lock="$1"; shift
# A build secret `ca_bundle` (deploy/build-images.sh passes the host's CA bundle): trusted for the downloads, for
# machines whose egress to the package registry goes through a TLS-inspecting proxy. Never stored in a layer.
if [ -s /run/secrets/ca_bundle ]; then
    export SSL_CERT_FILE=/run/secrets/ca_bundle PIP_CERT=/run/secrets/ca_bundle
fi
python3 -m venv /opt/uv
/opt/uv/bin/python -m pip install --quiet --no-cache-dir --disable-pip-version-check --require-hashes \
    -r /tmp/requirements/uv.lock
# A lock entry is "name==version \" at the start of a line, then its indented hashes and comments.
awk -v drop=" $* " '
    /^[A-Za-z0-9]/ { name = tolower($1); sub(/==.*/, "", name); gsub(/[_.]/, "-", name);
                     skip = index(drop, " " name " ") > 0; if (skip) print "install-lock: leaving out " name > "/dev/stderr" }
    !skip' "$lock" >/tmp/requirements/image.lock
# With venv's own pip and setuptools, as scripts/envs.sh makes the host environments: apscheduler (Rasa's) still
# imports pkg_resources, and the locks carry neither setuptools nor wheel.
python3 -m venv /opt/venv
UV_LINK_MODE=copy /opt/uv/bin/uv pip install --quiet --python /opt/venv/bin/python --require-hashes --no-deps \
    $compile -r /tmp/requirements/image.lock
# Known and accepted, as in the host environments: rasa, rasa-sdk, tensorflow, tensorboard, apscheduler and
# astunparse declare setuptools and wheel (some a newer setuptools than venv's 65.5.0); none imports wheel, and
# pkg_resources works as it is. Any other unmet requirement fails the build.
if ! /opt/uv/bin/uv pip check --python /opt/venv/bin/python >/tmp/requirements/check.txt 2>&1; then
    if grep 'requires' /tmp/requirements/check.txt | grep -v -E 'requires `(setuptools|wheel)[>=`]'; then
        cat /tmp/requirements/check.txt >&2
        exit 1
    fi
    echo "install-lock: accepted: declared setuptools/wheel requirements (see install-lock.sh)" >&2
fi
