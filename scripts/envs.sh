#!/usr/bin/env bash
# Creates, or reuses, the project's two Python 3.10 environments from the hash-pinned lock files:
#   rasa: the Rasa server (rasa 3.6.21 pins Python <3.11, SQLAlchemy <1.5, TensorFlow 2.12)
#   app:  the gateway and the action server (rasa-sdk 3.6.2, SQLAlchemy 2, FastAPI, stripe, twilio)
# An environment lives in $SETTLE_CACHE/venvs/<name>-<hash of its lock file>, so a changed lock file
# builds a fresh one and an unchanged one is reused; .venv-rasa and .venv-app point at the current ones.
# The two are built at the same time by uv (about a minute each on 2 cores, against pip's several), itself
# installed once from requirements/uv.lock; with SETTLE_INSTALLER=pip, or when uv cannot be installed, pip does it.
# Every file installed must match a sha256 in the lock (--require-hashes). scripts/lock.sh writes the locks.
#   scripts/envs.sh [rasa] [app]   build those (default both)
#   scripts/envs.sh --print-uv     install uv if needed and print its path
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CACHE="${SETTLE_CACHE:-$HOME/.cache/settle}"
mkdir -p "$CACHE/venvs"

find_python310() {
    local candidate
    for candidate in "${SETTLE_PYTHON310:-}" python3.10; do
        if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
            && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
            command -v "$candidate"; return 0
        fi
    done
    if command -v pyenv >/dev/null 2>&1; then
        local version
        for version in $(pyenv versions --bare 2>/dev/null | grep -E '^3\.10\.[0-9]+$' | sort -t. -k3 -n -r); do
            candidate="$(pyenv prefix "$version")/bin/python"
            if [ -x "$candidate" ]; then echo "$candidate"; return 0; fi
        done
    fi
    return 1
}

ensure_uv() {
    # uv in a venv of its own, keyed by its lock; prints its path, or fails (the caller falls back to pip).
    local lock="$ROOT/requirements/uv.lock" dir
    dir="$CACHE/tools/uv-$(sha256sum "$lock" | cut -c1-12)"
    (
        flock 9
        if [ ! -f "$dir/.complete" ]; then
            rm -rf "$dir"
            "$PYTHON310" -m venv "$dir" >&2
            "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$lock" >&2
            touch "$dir/.complete"
        fi
    ) 9>"$CACHE/.uv.lock" || return 1
    echo "$dir/bin/uv"
}

ensure_env() {
    local name="$1" lock="$ROOT/requirements/$1.lock" python="$2"
    local hash dir started
    hash="$( (cat "$lock"; "$python" -c 'import sys; print(sys.version)') | sha256sum | cut -c1-12)"
    dir="$CACHE/venvs/$name-$hash"
    (
        flock 9
        if [ ! -f "$dir/.complete" ]; then
            started=$SECONDS
            echo "settle: creating the $name environment with ${UV:-pip} (first run only; about 30 s with uv," \
                 "4-6 with pip)" >&2
            rm -rf "$dir"
            "$python" -m venv "$dir"
            if [ -n "$UV" ]; then
                # No --compile-bytecode: it compiles all of TensorFlow; the first start compiles only what it imports.
                "$UV" pip install --quiet --python "$dir/bin/python" --require-hashes --no-deps -r "$lock"
            else
                "$dir/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps \
                    -r "$lock"
            fi
            touch "$dir/.complete"
            echo "settle: the $name environment is ready ($((SECONDS - started)) s)" >&2
        fi
    ) 9>"$CACHE/venvs/.$name.lock"
    ln -sfn "$dir" "$ROOT/.venv-$name"
}

PYTHON310="$(find_python310)" || {
    cat >&2 <<'MSG'
settle: no Python 3.10 found. rasa 3.6.21 runs only on Python 3.10.
  Install one (for example `pyenv install 3.10.13`, or your system's python3.10 package),
  or point SETTLE_PYTHON310 at a python3.10 executable, then run this again.
MSG
    exit 1
}

UV=""
if [ "${1:-}" = "--print-uv" ]; then
    ensure_uv
    exit
fi
if [ "${SETTLE_INSTALLER:-uv}" = "uv" ]; then
    UV="$(ensure_uv)" || { echo "settle: could not install uv; installing with pip instead" >&2; UV=""; }
fi

# Both environments at once: each is mostly download and unpacking, which overlap well.
pids=()
for name in ${@:-rasa app}; do
    ensure_env "$name" "$PYTHON310" & pids+=($!)
done
status=0
for pid in "${pids[@]}"; do wait "$pid" || status=1; done
exit $status
